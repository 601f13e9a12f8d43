//! Corruption sweep: single-byte changes over a real ledger file (every allocation kind, a
//! release, recorded assets). Each damaged file, read and opened for writing, must either give
//! exactly the original contents (the byte was not in use) or be reported as corruption and
//! left unchanged; never a panic, never a record taken as something else, so never capacity
//! freed by a damaged record.

mod common;

use common::node_assets;
use hypermesh_assets::ledger::Contents;
use hypermesh_assets::{AssetKind, AssetManager, Error, LEDGER_FILE, Ledger, Request};
use std::path::Path;
use std::time::Duration;

const FLIPS: usize = 400;

/// Where `needle` starts in `haystack`.
fn positions(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    haystack.windows(needle.len()).enumerate().filter(|(_, w)| *w == needle).map(|(i, _)| i).collect()
}

/// The parts of the contents that decide what is held.
fn essence(c: &Contents) -> String {
    format!("{:?} next {} {:?}", c.allocations, c.next_id, c.assets)
}

fn real_ledger(path: &Path) {
    let m = AssetManager::open(node_assets(), Ledger::open(path).unwrap()).unwrap().0;
    let hour = Duration::from_secs(3600);
    for (kind, amount) in [
        (AssetKind::Cpu, 1500),
        (AssetKind::Gpu, 1),
        (AssetKind::Memory, 8 << 30),
        (AssetKind::Storage, 100 << 30),
    ] {
        m.allocate(&Request::new(kind, amount, format!("job-{kind}"), hour)).unwrap();
    }
    let gone = m.allocate(&Request::new(AssetKind::Gpu, 1, "short-lived", hour)).unwrap();
    m.release(gone.id).unwrap();
    m.allocate(&Request::new(AssetKind::Cpu, 2000, "job-last", hour)).unwrap();
}

#[test]
fn single_byte_flips_are_harmless_or_reported_never_taken_as_data() {
    let dir = tempfile::tempdir().unwrap();
    let original_path = dir.path().join("original").join(LEDGER_FILE);
    real_ledger(&original_path);
    let original = std::fs::read(&original_path).unwrap();
    let expected = essence(&Ledger::snapshot(&original_path, Duration::ZERO).unwrap().load().unwrap());
    // Most of a fresh file is zeros (unused pages): three quarters of the flips hit bytes in use.
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let used: Vec<usize> = (0..original.len()).filter(|&i| original[i] != 0).collect();
    let mut offsets: Vec<usize> = (0..FLIPS * 3 / 4).map(|_| used[rng.usize(..used.len())]).collect();
    offsets.extend((0..FLIPS / 4).map(|_| rng.usize(..original.len())));
    // And every byte of the last record written, which is certainly in use.
    let last: Vec<usize> = positions(&original, b"job-last");
    assert_eq!(last.len(), 1, "the last record is written once");
    let record = (last[0].saturating_sub(120)..last[0] + 8).collect::<Vec<_>>();
    offsets.extend(&record);
    let (mut harmless, mut reported) = (0, 0);
    for (n, offset) in offsets.into_iter().enumerate() {
        let mut damaged = original.clone();
        damaged[offset] ^= rng.u8(1..=255);
        let path = dir.path().join(n.to_string()).join(LEDGER_FILE);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &damaged).unwrap();
        let read = Ledger::snapshot(&path, Duration::ZERO).and_then(|l| l.load());
        let written = Ledger::open(&path).and_then(|l| l.load());
        let in_record = record.contains(&offset);
        match (read, written) {
            (Ok(a), Ok(b)) if !in_record => {
                assert_eq!(essence(&a), expected, "flip at {offset} was taken as data");
                assert_eq!(essence(&b), expected, "flip at {offset} was taken as data by a writer");
                harmless += 1;
            }
            (Err(Error::Corrupt { .. }), Err(Error::Corrupt { .. })) => {
                assert!(
                    std::fs::read(&path).unwrap() == damaged,
                    "flip at {offset}: the corrupt file was rewritten"
                );
                reported += 1;
            }
            (read, written) => panic!("flip at {offset}: read {read:?}, write {written:?}"),
        }
    }
    let total = FLIPS + record.len();
    eprintln!(
        "{total} single-byte flips over a {} byte ledger: {harmless} harmless (same contents), {reported} reported as corrupt",
        original.len()
    );
    assert!(reported >= record.len(), "every flip of the last record is caught");
}
