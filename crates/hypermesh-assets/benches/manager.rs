//! Allocate + release round trip: in-memory ledger (target ≤ 50 µs) and durable redb ledger
//! (fsync per commit, reported separately); status snapshot.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use hypermesh_assets::{Asset, AssetKind, AssetManager, Health, LEDGER_FILE, Ledger, Request, SharingLevel};
use std::hint::black_box;
use std::time::Duration;

fn assets() -> Vec<Asset> {
    let asset = |id: &str, kind, capacity, numa_node| Asset {
        id: id.into(),
        kind,
        description: String::new(),
        numa_node,
        cpus: Vec::new(),
        solid_state: None,
        capacity,
        allocatable: capacity,
        utilisation: None,
        health: Health::default(),
        sharing: SharingLevel::Private,
        hardware: Vec::new(),
    };
    vec![
        asset("cpu:numa0", AssetKind::Cpu, 64_000, Some(0)),
        asset("cpu:numa1", AssetKind::Cpu, 64_000, Some(1)),
        asset("gpu:pci-0000:09:00.0", AssetKind::Gpu, 1, None),
        asset("memory:numa0", AssetKind::Memory, 256 << 30, Some(0)),
        asset("memory:numa1", AssetKind::Memory, 256 << 30, Some(1)),
        asset("storage:wwn-eui.1-part2048", AssetKind::Storage, 4 << 40, None),
    ]
}

fn round_trip(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, manager: &AssetManager) {
    // A few standing allocations so the manager is not empty.
    for i in 0..16 {
        manager
            .allocate(&Request::new(
                AssetKind::Memory,
                1 << 30,
                format!("standing-{i}"),
                Duration::from_secs(3600),
            ))
            .unwrap();
    }
    let mut request = Request::new(AssetKind::Cpu, 2000, "bench", Duration::from_secs(3600));
    request.numa_node = Some(1);
    group.bench_function(name, |b| {
        b.iter(|| {
            let a = manager.allocate(black_box(&request)).unwrap();
            manager.release(a.id).unwrap();
        })
    });
}

fn benches(c: &mut Criterion) {
    let memory = AssetManager::open(assets(), Ledger::Memory).unwrap().0;
    let mut group = c.benchmark_group("allocate_release");
    round_trip(&mut group, "in_memory", &memory);
    group.finish();
    c.bench_function("status/in_memory", |b| b.iter(|| black_box(memory.status())));

    let dir = tempfile::tempdir().unwrap();
    let durable =
        AssetManager::open(assets(), Ledger::open(&dir.path().join(LEDGER_FILE)).unwrap()).unwrap().0;
    let mut group = c.benchmark_group("allocate_release");
    group.sample_size(20);
    round_trip(&mut group, "redb_fsync", &durable);
    group.finish();
}

criterion_group! {
    name = manager;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(manager);
