//! Many threads racing for the last units: exactly the available amount is granted, with the
//! in-memory and the durable ledger. Seeded, bounded: each thread makes a fixed number of tries.

mod common;

use common::asset;
use hypermesh_assets::{AssetKind, AssetManager, Error, LEDGER_FILE, Ledger, Request};
use std::sync::{Arc, Barrier};
use std::time::Duration;

const T0: u64 = 1_800_000_000_000;
const THREADS: usize = 16;
const HOUR: Duration = Duration::from_secs(3600);

/// Pre-allocates all but `left` milli-CPUs, then lets THREADS threads each try `tries` times to
/// take 1 milli-CPU (random pauses from `seed`). Returns the number granted.
fn race(ledger: Ledger, left: u64, tries: usize, seed: u64) -> u64 {
    let assets = vec![asset("cpu:numa0", AssetKind::Cpu, 2000, 2000, Some(0))];
    let manager = Arc::new(AssetManager::open_at(assets, ledger, T0).unwrap().0);
    manager.allocate_at(&Request::new(AssetKind::Cpu, 2000 - left, "filler", HOUR), T0).unwrap();
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (manager, barrier) = (Arc::clone(&manager), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let mut rng = fastrand::Rng::with_seed(seed ^ t as u64);
                barrier.wait();
                let mut granted = 0u64;
                for _ in 0..tries {
                    if rng.bool() {
                        std::thread::yield_now();
                    }
                    match manager.allocate_at(&Request::new(AssetKind::Cpu, 1, format!("t{t}"), HOUR), T0) {
                        Ok(a) => granted += a.amount(),
                        Err(Error::Refused(_)) => {}
                        Err(e) => panic!("unexpected error: {e}"),
                    }
                }
                granted
            })
        })
        .collect();
    let granted: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let status = manager.status();
    assert_eq!(status.assets[0].allocated, 2000, "the asset ends exactly full");
    assert_eq!(status.assets[0].free, 0);
    granted
}

#[test]
fn in_memory_races_grant_exactly_what_is_left() {
    for round in 0..50u64 {
        let left = 1 + round % 24;
        assert_eq!(race(Ledger::Memory, left, 4, 0x5eed + round), left, "round {round}");
    }
}

#[test]
fn durable_races_grant_exactly_what_is_left() {
    for round in 0..3u64 {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join(LEDGER_FILE)).unwrap();
        assert_eq!(race(ledger, 10, 2, 0xd15c + round), 10, "round {round}");
        // What was granted is what the ledger holds.
        let assets = vec![asset("cpu:numa0", AssetKind::Cpu, 2000, 2000, Some(0))];
        let reopened =
            AssetManager::open_at(assets, Ledger::open(&dir.path().join(LEDGER_FILE)).unwrap(), T0);
        let status = reopened.unwrap().0.status();
        assert_eq!(status.assets[0].allocated, 2000);
        assert_eq!(status.allocations.len(), 11);
    }
}

#[test]
fn racing_for_whole_gpus_grants_each_gpu_once() {
    let assets = vec![
        asset("gpu:a", AssetKind::Gpu, 1, 1, None),
        asset("gpu:b", AssetKind::Gpu, 1, 1, None),
        asset("gpu:c", AssetKind::Gpu, 1, 1, None),
    ];
    let manager = Arc::new(AssetManager::open_at(assets, Ledger::Memory, T0).unwrap().0);
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (manager, barrier) = (Arc::clone(&manager), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                let amount = 1 + (t as u64 % 2);
                manager.allocate_at(&Request::new(AssetKind::Gpu, amount, format!("t{t}"), HOUR), T0).ok()
            })
        })
        .collect();
    let granted: Vec<_> = handles.into_iter().filter_map(|h| h.join().unwrap()).collect();
    let mut gpus: Vec<String> =
        granted.iter().flat_map(|a| a.parts.iter().map(|p| p.asset.clone())).collect();
    gpus.sort();
    let before = gpus.len();
    gpus.dedup();
    assert_eq!(gpus.len(), before, "no GPU granted twice");
    assert!(gpus.len() >= 2, "a 1-GPU or 2-GPU request always fits while 2 or more are free");
    let free: u64 = manager.status().assets.iter().map(|s| s.free).sum();
    assert_eq!(gpus.len() as u64 + free, 3);
}
