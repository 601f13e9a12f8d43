//! Device health applied to assets (issue 20.5): an asset whose device says it is failing
//! (SMART failing, NVMe critical warning, uncorrected memory errors, GPU ECC / retired-page
//! faults, a sensor of the device at its critical limit) becomes `critical`, which the manager
//! refuses to allocate from; a warning makes it `degraded`. Existing allocations stay, flagged
//! (see [`crate::manager::Flagged`]).
//!
//! Matching: a storage asset by the disk holding its filesystem's block device, a GPU by PCI
//! address, a memory asset by NUMA node (a memory controller whose node is unknown counts for
//! every memory asset: which memory it holds cannot be told). The CPUs of a node whose memory
//! is failing are only `degraded`: they work, but a job placed there gets that node's memory
//! first; the memory asset itself is what stops being allocatable.

use crate::adapter::Inventory;
use crate::asset::{Asset, HealthState};
use crate::kind::AssetKind;
use hypermesh_os::HostProfile;
use hypermesh_os::health::{HealthReport, Status, Subject, Verdict};

/// Marks every asset of `inventory` whose device `report` finds failing (`critical`) or
/// warning (`degraded`), with the device and its reasons; sources the report could not read go
/// to the inventory's notes.
pub fn apply(inventory: &mut Inventory, profile: &HostProfile, report: &HealthReport) {
    let verdicts = report.verdicts();
    for asset in &mut inventory.assets {
        let mine: Vec<&Verdict> = verdicts.iter().filter(|v| concerns(asset, profile, v)).collect();
        for v in mine {
            let state = match v.assessment.status {
                Status::Failing if asset.kind == AssetKind::Cpu => HealthState::Degraded,
                Status::Failing => HealthState::Critical,
                Status::Warning => HealthState::Degraded,
                Status::Ok | Status::Unsupported | Status::Unavailable => continue,
            };
            let what = match (asset.kind, v.subject) {
                (AssetKind::Cpu, _) => format!("memory of its node failing: {}", v.device),
                _ => v.device.clone(),
            };
            asset.health.note(state, format!("{what}: {}", v.assessment.reasons.join("; ")));
        }
    }
    inventory.notes.extend(
        report.errors.iter().map(|e| format!("device health: {} could not be read: {}", e.source, e.message)),
    );
}

/// True when verdict `v` is about hardware asset `a` is made of.
fn concerns(a: &Asset, profile: &HostProfile, v: &Verdict) -> bool {
    match a.kind {
        AssetKind::Storage => {
            let Some(name) = a.hardware.first().and_then(|h| h.strip_prefix("/dev/")) else { return false };
            let disk = disk_of(profile, name);
            v.block_devices.iter().any(|b| b == name || Some(b.as_str()) == disk)
        }
        AssetKind::Gpu => {
            let Some(address) = a.hardware.first().and_then(|h| h.strip_prefix("pci-")) else { return false };
            v.pci_address.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(address))
        }
        AssetKind::Memory | AssetKind::Cpu => {
            v.subject == Subject::Memory
                && match (a.numa_node, v.numa_node) {
                    (Some(asset_node), Some(node)) => asset_node == node,
                    // A host-wide memory asset holds every node, and a controller of unknown
                    // node may be any node's; a CPU asset is flagged for its own node only.
                    _ => a.kind == AssetKind::Memory,
                }
        }
    }
}

/// The disk holding partition or disk `name`.
fn disk_of<'a>(profile: &'a HostProfile, name: &str) -> Option<&'a str> {
    profile.storage.as_ref()?.block_devices.iter().find_map(|d| {
        (d.name == name || d.partitions.iter().any(|p| p.name == name)).then_some(d.name.as_str())
    })
}
