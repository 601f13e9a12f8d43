//! Crash safety: a child process (this test binary, re-executed) allocates and releases in a
//! loop, printing each acknowledgement; it is killed with SIGKILL at random points, one round
//! in four on a new state directory within its first 10 or 120 ms (while the ledger is being created,
//! its first allocation made, or soon after). After each kill the ledger must read without being
//! written (a reader copes with the repair a crash calls for), open for writing, hold every
//! acknowledged allocation, none acknowledged as released, and nothing beyond the one operation
//! in flight.

mod common;

use common::asset;
use hypermesh_assets::{AssetKind, AssetManager, LEDGER_FILE, Ledger, Request};
use std::collections::{BTreeSet, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_VAR: &str = "HYPERMESH_CRASH_CHILD_LEDGER";
const GIB: u64 = 1 << 30;
const ROUNDS: u64 = 320;

fn assets() -> Vec<hypermesh_assets::Asset> {
    vec![asset("memory:numa0", AssetKind::Memory, 1 << 50, 1 << 50, Some(0))]
}

/// The child's work; a no-op unless started by the parent test with CHILD_VAR set. It keeps at
/// most 4 allocations (its own and those earlier children left), releasing the oldest.
#[test]
fn crash_child() {
    let Some(path) = std::env::var_os(CHILD_VAR) else { return };
    let mut out = std::io::stdout().lock();
    writeln!(out, "OPEN").unwrap();
    out.flush().unwrap();
    let ledger = Ledger::open(Path::new(&path)).expect("child opens the ledger");
    let manager = AssetManager::open(assets(), ledger).expect("child loads the ledger").0;
    let mut held: VecDeque<u64> = manager.status().allocations.iter().map(|a| a.id).collect();
    for _ in 0..100_000u64 {
        let a = manager
            .allocate(&Request::new(AssetKind::Memory, GIB, "crash", Duration::from_secs(3600)))
            .expect("allocate");
        writeln!(out, "ACK {}", a.id).unwrap();
        out.flush().unwrap();
        held.push_back(a.id);
        if held.len() > 4 {
            let id = held.pop_front().unwrap();
            writeln!(out, "RELEASING {id}").unwrap();
            out.flush().unwrap();
            manager.release(id).expect("release");
            writeln!(out, "REL {id}").unwrap();
            out.flush().unwrap();
        }
    }
}

/// What a child printed.
#[derive(Default)]
struct Seen {
    acked: BTreeSet<u64>,
    released: BTreeSet<u64>,
    releasing: Option<u64>,
    opened: bool,
}

impl Seen {
    fn record(&mut self, line: &str) {
        // The first line follows the harness's "test crash_child ... ".
        let line = line.rsplit("... ").next().unwrap_or(line);
        let mut words = line.split_whitespace();
        match (words.next(), words.next().and_then(|w| w.parse::<u64>().ok())) {
            (Some("OPEN"), _) => self.opened = true,
            (Some("ACK"), Some(id)) => {
                self.acked.insert(id);
            }
            (Some("RELEASING"), Some(id)) => self.releasing = Some(id),
            (Some("REL"), Some(id)) => {
                self.released.insert(id);
            }
            _ => {}
        }
    }
}

#[test]
fn sigkill_at_random_points_loses_nothing_acknowledged() {
    let top = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = fastrand::Rng::with_seed(0xc0ffee);
    let started = Instant::now();
    // New state directories: killed before the ledger existed, after it existed but before any
    // acknowledgement, after one or more.
    let (mut no_ledger, mut no_ack, mut acked) = (0, 0, 0);
    let mut reads_after_crash = 0;
    let mut path = top.path().join("0").join(LEDGER_FILE);
    // Allocations that must be in the ledger at `path`.
    let mut live: BTreeSet<u64> = BTreeSet::new();
    for round in 0..ROUNDS {
        let fresh = round % 4 == 0;
        if fresh {
            path = top.path().join(round.to_string()).join(LEDGER_FILE);
            live.clear();
        }
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads", "1"])
            .env(CHILD_VAR, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = Seen::default();
        // On a new directory: killed soon after the child starts opening; else after 1-8
        // acknowledgements and 0-3 ms more.
        let acks_first = if fresh { 0 } else { rng.u64(1..8) };
        for line in lines.by_ref() {
            seen.record(&line.unwrap());
            if seen.opened && seen.acked.len() as u64 >= acks_first {
                break;
            }
        }
        // Half the new directories within 10 ms (creation, on a quiet host), half within 120 ms
        // (the first allocations, or creation on a loaded one).
        let delay = match (fresh, rng.bool()) {
            (true, true) => rng.u64(0..10_000),
            (true, false) => rng.u64(0..120_000),
            (false, _) => rng.u64(0..3000),
        };
        std::thread::sleep(Duration::from_micros(delay));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // What the child printed before it died was acknowledged too.
        for line in lines {
            seen.record(&line.unwrap());
        }
        if fresh {
            match (path.exists(), seen.acked.is_empty()) {
                (false, _) => no_ledger += 1,
                (true, true) => no_ack += 1,
                (true, false) => acked += 1,
            }
        }
        live.extend(&seen.acked);
        live.retain(|id| !seen.released.contains(id));

        // A reader copes with what the crash left, and writes nothing.
        if path.exists() {
            let before = std::fs::read(&path).unwrap();
            let snapshot = Ledger::snapshot(&path, Duration::from_secs(5))
                .unwrap_or_else(|e| panic!("round {round}: ledger unreadable: {e}"));
            let read: BTreeSet<u64> = snapshot.load().unwrap().allocations.iter().map(|a| a.id).collect();
            assert_eq!(std::fs::read(&path).unwrap(), before, "round {round}: reading wrote the ledger");
            assert!(live.is_subset(&read) || seen.releasing.is_some(), "round {round}: {live:?} vs {read:?}");
            reads_after_crash += 1;
        }
        let ledger = Ledger::open(&path).unwrap_or_else(|e| panic!("round {round}: ledger unusable: {e}"));
        let (manager, report) = AssetManager::open(assets(), ledger).unwrap();
        assert!(report.overcommitted.is_empty(), "{report:?}");
        let status = manager.status();
        let present: BTreeSet<u64> = status.allocations.iter().map(|a| a.id).collect();
        for a in &status.allocations {
            assert!(
                a.is_active() && a.holder == "crash" && a.amount() == GIB,
                "round {round}: bad record {a:?}"
            );
        }
        let max_acked = seen.acked.last().copied().unwrap_or(0);
        for id in present.difference(&live) {
            assert!(!seen.released.contains(id), "round {round}: allocation {id} was released but is back");
            assert!(*id > max_acked, "round {round}: {id} present but never acknowledged");
        }
        assert!(present.difference(&live).count() <= 1, "round {round}: more than one unacknowledged record");
        for id in live.difference(&present) {
            assert_eq!(Some(*id), seen.releasing, "round {round}: acknowledged allocation {id} is lost");
        }
        assert_eq!(status.assets[0].allocated, present.len() as u64 * GIB);
        // The ledger's truth (checked above) carries into the next round.
        live = present;
    }
    eprintln!(
        "{ROUNDS} rounds in {:.1} s; on a new state directory, killed before the ledger existed: {no_ledger}, \
         before the first acknowledgement: {no_ack}, after it: {acked}; {reads_after_crash} read back without writing",
        started.elapsed().as_secs_f64()
    );
    assert!(
        no_ledger > 0 && no_ack > 0 && acked > 0,
        "kills land before, during and after the first allocation"
    );
}
