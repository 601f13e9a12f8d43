//! Property tests: random allocate / release / expire sequences never exceed allocatable
//! capacity, and releasing or expiring everything returns to the initial free state.

mod common;

use common::node_assets;
use hypermesh_assets::{AssetKind, AssetManager, Error, LEDGER_FILE, Ledger, Request, Status};
use proptest::prelude::*;
use std::collections::HashMap;
use std::time::Duration;

const T0: u64 = 1_800_000_000_000;
const GIB: u64 = 1 << 30;

#[derive(Debug, Clone)]
enum Op {
    Allocate { kind: AssetKind, amount: u64, numa: Option<u32>, secs: u64 },
    Release(usize),
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let kind = prop_oneof![
        Just(AssetKind::Cpu),
        Just(AssetKind::Gpu),
        Just(AssetKind::Memory),
        Just(AssetKind::Storage)
    ];
    prop_oneof![
        4 => (kind, 1u64..=16, proptest::option::of(0u32..3), 1u64..120).prop_map(|(kind, n, numa, secs)| {
            let amount = match kind {
                AssetKind::Cpu => n * 500,
                AssetKind::Gpu => n % 3 + 1,
                AssetKind::Memory => n * 5 * GIB,
                AssetKind::Storage => n * 70 * GIB,
            };
            Op::Allocate { kind, amount, numa, secs }
        }),
        2 => any::<usize>().prop_map(Op::Release),
        1 => (0u64..60).prop_map(Op::Advance),
    ]
}

/// Every asset: allocated equals what active allocations hold, never above allocatable.
fn check_invariants(status: &Status) {
    let mut held: HashMap<&str, u64> = HashMap::new();
    for a in status.allocations.iter().filter(|a| a.is_active()) {
        for p in &a.parts {
            *held.entry(p.asset.as_str()).or_default() += p.amount;
        }
    }
    for s in &status.assets {
        let held = held.get(s.asset.id.as_str()).copied().unwrap_or(0);
        assert_eq!(s.allocated, held, "{}: allocated figure matches the allocations", s.asset.id);
        assert!(s.allocated <= s.asset.allocatable, "{} over-committed: {s:?}", s.asset.id);
        assert_eq!(s.free, s.asset.allocatable - s.allocated);
    }
}

/// A refusal of a pooled request without constraints means no single asset had room.
fn check_refusal(status: &Status, kind: AssetKind, amount: u64, numa: Option<u32>) {
    let fits = status
        .assets
        .iter()
        .filter(|s| s.asset.kind == kind)
        .filter(|s| numa.is_none_or(|n| s.asset.numa_node == Some(n)));
    if kind.whole_devices() {
        assert!(
            (fits.filter(|s| s.free >= 1).count() as u64) < amount,
            "refused though {amount} GPUs were free"
        );
    } else {
        assert!(
            fits.into_iter().all(|s| s.free < amount),
            "refused {amount} {kind} though an asset had room"
        );
    }
}

fn run(manager: &AssetManager, ops: &[Op]) -> u64 {
    let mut now = T0;
    let mut ids: Vec<u64> = Vec::new();
    for op in ops {
        match *op {
            Op::Allocate { kind, amount, numa, secs } => {
                let mut req = Request::new(kind, amount, "prop", Duration::from_secs(secs));
                req.numa_node = numa;
                match manager.allocate_at(&req, now) {
                    Ok(a) => {
                        assert_eq!(a.amount(), amount);
                        ids.push(a.id);
                    }
                    Err(Error::Refused(_)) => {
                        manager.expire_at(now).unwrap();
                        check_refusal(&manager.status(), kind, amount, numa);
                    }
                    Err(e) => panic!("unexpected error {e}"),
                }
            }
            Op::Release(i) if !ids.is_empty() => {
                let id = ids.swap_remove(i % ids.len());
                match manager.release(id) {
                    Ok(_) | Err(Error::UnknownAllocation(_)) => {} // may have expired meanwhile
                    Err(e) => panic!("unexpected error {e}"),
                }
            }
            Op::Release(_) => {}
            Op::Advance(secs) => now += secs * 1000,
        }
        check_invariants(&manager.status());
    }
    now
}

fn initial_free() -> Vec<(String, u64)> {
    node_assets().into_iter().map(|a| (a.id, a.allocatable)).collect()
}

fn free_of(status: &Status) -> Vec<(String, u64)> {
    status.assets.iter().map(|s| (s.asset.id.clone(), s.free)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn in_memory_sequences_never_overcommit_and_expire_back_to_free(ops in proptest::collection::vec(op(), 1..80)) {
        let manager = AssetManager::open_at(node_assets(), Ledger::Memory, T0).unwrap().0;
        let now = run(&manager, &ops);
        // Everything expires within 120 s.
        manager.expire_at(now + 120_000).unwrap();
        let status = manager.status();
        prop_assert!(status.allocations.is_empty());
        prop_assert_eq!(free_of(&status), initial_free());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn durable_sequences_survive_reopening_and_release_back_to_free(ops in proptest::collection::vec(op(), 1..30)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LEDGER_FILE);
        let before = {
            let manager = AssetManager::open_at(node_assets(), Ledger::open(&path).unwrap(), T0).unwrap().0;
            run(&manager, &ops);
            manager.status()
        };
        let manager = AssetManager::open_at(node_assets(), Ledger::open(&path).unwrap(), T0).unwrap().0;
        let after = manager.status();
        prop_assert_eq!(&after, &before, "the ledger gives back exactly the state before the restart");
        for a in &after.allocations {
            manager.release(a.id).unwrap();
        }
        prop_assert_eq!(free_of(&manager.status()), initial_free());
    }
}
