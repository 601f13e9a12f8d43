//! Storage assets: one per mounted filesystem with a known size, identified by the disk's
//! WWN or serial (plus the partition's start sector) where the profile has them.

use crate::adapter::{AssetAdapter, HostView, section_missing};
use crate::asset::{Asset, Health, HealthState};
use crate::kind::AssetKind;
use hypermesh_os::Section;
use hypermesh_os::model::{BlockDevice, DiskKind, Filesystem, Partition, Storage};
use std::collections::BTreeSet;

/// Offers filesystem space: allocatable = available bytes minus the reserved share of the size.
#[derive(Debug, Clone, Copy, Default)]
pub struct StorageAdapter;

impl AssetAdapter for StorageAdapter {
    fn kind(&self) -> AssetKind {
        AssetKind::Storage
    }

    fn assets(&self, host: &HostView<'_>, problems: &mut Vec<String>) -> Result<Vec<Asset>, String> {
        let storage =
            host.profile.storage.as_ref().ok_or_else(|| section_missing(host.profile, Section::Storage))?;
        let mut seen = BTreeSet::new();
        let mut assets = Vec::new();
        for fs in &storage.filesystems {
            let (Some(total), Some(available)) = (fs.total_bytes, fs.available_bytes) else {
                problems.push(format!("{}: size unknown, not offered", fs.mount_point));
                continue;
            };
            if total == 0 {
                continue;
            }
            let disk = find_device(storage, &fs.device);
            let id = storage_id(fs, disk);
            // The same filesystem mounted twice (bind mounts) is one asset.
            if !seen.insert(id.clone()) {
                continue;
            }
            let reserve = (total as f64 * host.config.reserve.storage_fraction.clamp(0.0, 1.0)) as u64;
            let used = total.saturating_sub(fs.free_bytes.unwrap_or(available));
            let used_share = used as f64 / total as f64;
            assets.push(Asset {
                id,
                kind: AssetKind::Storage,
                description: format!("{} ({}, {})", fs.mount_point, fs.fs_type, fs.device),
                numa_node: None,
                cpus: Vec::new(),
                solid_state: disk.and_then(|(d, _)| solid_state(d.kind)),
                capacity: total,
                allocatable: available.saturating_sub(reserve),
                utilisation: Some(used_share.clamp(0.0, 1.0)),
                health: health(fs, used_share, host),
                sharing: host.config.sharing,
                hardware: vec![if fs.device.starts_with("/dev/") {
                    fs.device.clone()
                } else {
                    format!("mount:{}", fs.mount_point)
                }],
            });
        }
        Ok(assets)
    }
}

/// The disk (and partition) behind a `/dev/NAME` source.
fn find_device<'a>(storage: &'a Storage, device: &str) -> Option<(&'a BlockDevice, Option<&'a Partition>)> {
    let name = device.strip_prefix("/dev/")?;
    storage.block_devices.iter().find_map(|d| {
        if d.name == name {
            Some((d, None))
        } else {
            d.partitions.iter().find(|p| p.name == name).map(|p| (d, Some(p)))
        }
    })
}

/// `storage:wwn-X[-partS]`, `storage:serial-X[-partS]` (S = start sector), else the device path.
fn storage_id(fs: &Filesystem, disk: Option<(&BlockDevice, Option<&Partition>)>) -> String {
    if let Some((d, part)) = disk {
        let identity = d
            .wwn
            .as_deref()
            .filter(|w| !w.is_empty())
            .map(|w| format!("wwn-{w}"))
            .or_else(|| d.serial.as_deref().filter(|s| !s.is_empty()).map(|s| format!("serial-{s}")));
        if let Some(identity) = identity {
            return match part {
                None => format!("storage:{identity}"),
                Some(p) => match p.start_sector {
                    Some(start) => format!("storage:{identity}-part{start}"),
                    None => format!("storage:{identity}-{}", p.name),
                },
            };
        }
    }
    match fs.device.strip_prefix("/dev/") {
        Some(name) => format!("storage:dev-{name}"),
        None => format!("storage:{}", fs.device),
    }
}

fn solid_state(kind: DiskKind) -> Option<bool> {
    match kind {
        DiskKind::Nvme | DiskKind::Ssd => Some(true),
        DiskKind::Hdd => Some(false),
        DiskKind::Virtual | DiskKind::Removable | DiskKind::Unknown => None,
    }
}

fn health(fs: &Filesystem, used_share: f64, host: &HostView<'_>) -> Health {
    let mut health = Health::default();
    if fs.options.iter().any(|o| o == "ro") {
        health.note(HealthState::Critical, "mounted read-only");
    }
    let full = format!("{:.1} % full", used_share * 100.0);
    if used_share >= host.config.fs_full {
        health.note(HealthState::Critical, full);
    } else if used_share >= host.config.fs_filling {
        health.note(HealthState::Degraded, full);
    }
    health
}
