//! Crash safety: a child process (this test binary, re-executed) allocates and releases in a
//! loop, printing each acknowledgement; it is killed with SIGKILL at random points. After each
//! kill the ledger must open, hold every acknowledged allocation, none acknowledged as
//! released, and nothing beyond the one operation in flight.

mod common;

use common::asset;
use hypermesh_assets::{AssetKind, AssetManager, LEDGER_FILE, Ledger, Request};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const CHILD_VAR: &str = "HYPERMESH_CRASH_CHILD_LEDGER";
const GIB: u64 = 1 << 30;
const ROUNDS: u64 = 8;

fn assets() -> Vec<hypermesh_assets::Asset> {
    vec![asset("memory:numa0", AssetKind::Memory, 1 << 50, 1 << 50, Some(0))]
}

/// The child's work; a no-op unless started by the parent test with CHILD_VAR set.
#[test]
fn crash_child() {
    let Some(path) = std::env::var_os(CHILD_VAR) else { return };
    let ledger = Ledger::open(Path::new(&path)).expect("child opens the ledger");
    let manager = AssetManager::open(assets(), ledger).expect("child loads the ledger").0;
    let mut out = std::io::stdout().lock();
    let mut mine = std::collections::VecDeque::new();
    for i in 0..100_000u64 {
        let a = manager
            .allocate(&Request::new(AssetKind::Memory, GIB, "crash", Duration::from_secs(3600)))
            .expect("allocate");
        writeln!(out, "ACK {}", a.id).unwrap();
        out.flush().unwrap();
        mine.push_back(a.id);
        if i % 3 == 2 {
            let id = mine.pop_front().unwrap();
            writeln!(out, "RELEASING {id}").unwrap();
            out.flush().unwrap();
            manager.release(id).expect("release");
            writeln!(out, "REL {id}").unwrap();
            out.flush().unwrap();
        }
    }
}

#[test]
fn sigkill_at_random_points_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(LEDGER_FILE);
    let exe = std::env::current_exe().unwrap();
    let mut rng = fastrand::Rng::with_seed(0xc0ffee);
    // Allocations that must be in the ledger, across all rounds.
    let mut live: BTreeSet<u64> = BTreeSet::new();
    for round in 0..ROUNDS {
        let kill_after = rng.u64(1..150);
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads", "1"])
            .env(CHILD_VAR, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut acked, mut released, mut releasing) = (BTreeSet::new(), BTreeSet::new(), None);
        let mut record = |line: &str, acked: &mut BTreeSet<u64>, released: &mut BTreeSet<u64>| {
            let mut words = line.split_whitespace();
            match (words.next(), words.next().and_then(|w| w.parse::<u64>().ok())) {
                (Some("ACK"), Some(id)) => {
                    acked.insert(id);
                }
                (Some("RELEASING"), Some(id)) => releasing = Some(id),
                (Some("REL"), Some(id)) => {
                    released.insert(id);
                }
                _ => {}
            }
        };
        for line in lines.by_ref() {
            record(&line.unwrap(), &mut acked, &mut released);
            if acked.len() as u64 >= kill_after {
                break;
            }
        }
        std::thread::sleep(Duration::from_micros(rng.u64(0..3000)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // What the child printed before it died was acknowledged too.
        for line in lines {
            record(&line.unwrap(), &mut acked, &mut released);
        }
        assert!(!acked.is_empty(), "round {round}: the child acknowledged nothing");
        live.extend(&acked);
        live.retain(|id| !released.contains(id));

        let ledger = Ledger::open(&path).unwrap_or_else(|e| panic!("round {round}: ledger unusable: {e}"));
        let (manager, report) = AssetManager::open(assets(), ledger).unwrap();
        assert!(report.lost.is_empty() && report.overcommitted.is_empty(), "{report:?}");
        let status = manager.status();
        let present: BTreeSet<u64> = status.allocations.iter().map(|a| a.id).collect();
        for a in &status.allocations {
            assert!(
                a.is_active() && a.holder == "crash" && a.amount() == GIB,
                "round {round}: bad record {a:?}"
            );
        }
        let max_acked = *acked.last().unwrap();
        for id in present.difference(&live) {
            assert!(!released.contains(id), "round {round}: allocation {id} was released but is back");
            assert!(*id > max_acked, "round {round}: {id} present but never acknowledged");
        }
        assert!(present.difference(&live).count() <= 1, "round {round}: more than one unacknowledged record");
        for id in live.difference(&present) {
            assert_eq!(Some(*id), releasing, "round {round}: acknowledged allocation {id} is lost");
        }
        let used: u64 = status.assets[0].allocated;
        assert_eq!(used, present.len() as u64 * GIB);
        // The ledger's truth (checked above) carries into the next round.
        live = present;
        drop(manager);
    }
    let mut db = redb::Database::create(&path).unwrap();
    assert!(db.check_integrity().unwrap(), "redb reports the file consistent");
}
