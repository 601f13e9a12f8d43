//! A state directory on a tiny tmpfs filling up: allocations (and the ledger's creation) fail
//! with a clear "No space left on device", nothing acknowledged is lost, and once space returns
//! the ledger opens and takes allocations again. Needs root (to mount its own tmpfs, in a
//! temporary directory, unmounted at the end).

#![cfg(native_linux)]

mod common;

use common::asset;
use hypermesh_assets::{AssetKind, AssetManager, Error, LEDGER_FILE, Ledger, Request};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A tmpfs of `size` mounted on a temporary directory, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Fills the file system of `path` (a file in it) until ENOSPC, then frees `leave` bytes.
fn fill(path: &Path, leave: u64) {
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![0xa5u8; 4096];
    while file.write_all(&chunk).is_ok() {}
    let len = file.metadata().unwrap().len();
    file.set_len(len.saturating_sub(leave)).unwrap();
}

fn assets() -> Vec<hypermesh_assets::Asset> {
    vec![asset("memory:numa0", AssetKind::Memory, 1 << 50, 1 << 50, Some(0))]
}

fn no_space(e: &Error) -> bool {
    e.to_string().contains("No space left on device")
}

#[test]
fn a_full_state_directory_gives_clear_errors_and_an_intact_ledger() {
    if !hypermesh_testkit::is_root() {
        hypermesh_testkit::skip("mounting a tmpfs needs root");
        return;
    }
    let Some(fs) = Tmpfs::mount("1m") else {
        hypermesh_testkit::skip("cannot mount a tmpfs here");
        return;
    };
    let path: PathBuf = fs.path().join("state").join(LEDGER_FILE);
    let filler = fs.path().join("filler");
    let holder = "h".repeat(250);
    let request = Request::new(AssetKind::Memory, 1 << 30, holder, Duration::from_secs(3600));
    AssetManager::open(assets(), Ledger::open(&path).unwrap()).unwrap().0.allocate(&request).unwrap();

    // Mid-write: a few pages left, allocations (one process each) until space runs out.
    fill(&filler, 24 << 10);
    let mut acked = BTreeSet::from([1u64]);
    let mut errors = Vec::new();
    for _ in 0..300 {
        let result = Ledger::open(&path)
            .and_then(|ledger| AssetManager::open(assets(), ledger))
            .and_then(|(m, _)| m.allocate(&request));
        match result {
            Ok(a) => {
                acked.insert(a.id);
            }
            Err(e) => errors.push(e),
        }
        if errors.len() >= 20 {
            break;
        }
    }
    assert!(!errors.is_empty(), "the tmpfs never filled up ({} allocations)", acked.len());
    for e in &errors {
        assert!(no_space(e), "not a clear error: {e}");
    }
    // Creating a ledger on the full file system fails as clearly and leaves no ledger behind.
    fill(&filler, 0);
    let second = fs.path().join("second").join(LEDGER_FILE);
    let e = Ledger::open(&second).unwrap_err();
    assert!(no_space(&e), "{e}");
    assert!(!second.exists(), "a failed creation leaves nothing at the ledger's path");

    // Space returns: everything acknowledged is there, and allocating works again.
    std::fs::remove_file(&filler).unwrap();
    let read: BTreeSet<u64> = Ledger::snapshot(&path, Duration::ZERO)
        .unwrap()
        .load()
        .unwrap()
        .allocations
        .iter()
        .map(|a| a.id)
        .collect();
    assert!(acked.is_subset(&read), "acknowledged {acked:?}, ledger {read:?}");
    let (m, _) = AssetManager::open(assets(), Ledger::open(&path).unwrap()).unwrap();
    assert!(m.allocate(&request).is_ok());
    assert!(Ledger::open(&second).is_ok());
    eprintln!(
        "tmpfs of 1 MiB: {} allocations acknowledged before it filled, {} clear ENOSPC errors, all there afterwards",
        acked.len(),
        errors.len()
    );
}
