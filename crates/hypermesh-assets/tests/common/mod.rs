//! Assets built by hand for the manager tests.
#![allow(dead_code)] // each test binary uses a part of it

use hypermesh_assets::{Asset, AssetKind, Health, SharingLevel};

/// An asset with the given amounts, private, healthy.
pub fn asset(id: &str, kind: AssetKind, capacity: u64, allocatable: u64, numa_node: Option<u32>) -> Asset {
    Asset {
        id: id.into(),
        kind,
        description: format!("test {kind}"),
        numa_node,
        cpus: Vec::new(),
        solid_state: None,
        capacity,
        allocatable,
        utilisation: None,
        health: Health::default(),
        sharing: SharingLevel::Private,
        hardware: Vec::new(),
    }
}

/// A CPU asset of whole CPUs `list`, its hardware named `cpuN`.
pub fn cpus(id: &str, list: &[u32]) -> Asset {
    let mut a = asset(id, AssetKind::Cpu, list.len() as u64 * 1000, list.len() as u64 * 1000, None);
    a.hardware = list.iter().map(|c| format!("cpu{c}")).collect();
    a
}

/// Two NUMA nodes of CPUs and memory, two GPUs, one filesystem; each asset's hardware is its
/// own (named after its id).
pub fn node_assets() -> Vec<Asset> {
    const GIB: u64 = 1 << 30;
    let mut assets = vec![
        asset("cpu:numa0", AssetKind::Cpu, 8000, 7500, Some(0)),
        asset("cpu:numa1", AssetKind::Cpu, 8000, 7500, Some(1)),
        asset("gpu:pci-0000:09:00.0", AssetKind::Gpu, 1, 1, None),
        asset("gpu:pci-0000:0a:00.0", AssetKind::Gpu, 1, 1, None),
        asset("memory:numa0", AssetKind::Memory, 64 * GIB, 63 * GIB, Some(0)),
        asset("memory:numa1", AssetKind::Memory, 64 * GIB, 63 * GIB, Some(1)),
        asset("storage:wwn-eui.1-part2048", AssetKind::Storage, 1000 * GIB, 900 * GIB, None),
    ];
    for a in &mut assets {
        a.hardware = vec![format!("hw-{}", a.id)];
    }
    assets
}
