//! Storage section from sysinfo's disk list, which is a list of mounted filesystems.

use super::{from_sysinfo, not_reported};
use crate::error::{Error, Result};
use crate::model::{DiskKind, Filesystem, Storage};
use crate::profile::Problems;
use sysinfo::{Disk, DiskRefreshKind, Disks};

/// Mounted filesystems with capacity, available space and, where sysinfo knows it, the kind of
/// the disk under them. sysinfo has no block device list, so `block_devices` stays empty and a
/// problem says so; it also leaves out pseudo and some network filesystems (on Linux: tmpfs,
/// anything under /sys, /proc and /run, NFS/CIFS, squashfs, ...).
pub(super) fn detect(problems: &mut Problems) -> Result<Storage> {
    let refresh = DiskRefreshKind::nothing().with_kind().with_storage();
    let disks = Disks::new_with_refreshed_list_specifics(refresh).map_err(|e| from_sysinfo("storage", e))?;
    problems.push(Error::Unavailable(
        "block_devices: sysinfo lists mounted filesystems, not block devices (sizes, models, \
         partitions unknown)"
            .into(),
    ));
    not_reported("filesystem free_bytes, inodes, mount options other than ro/rw", problems);
    problems.push(Error::Unavailable(
        "disk_kind: sysinfo's SSD/HDD verdict cannot tell virtual disks apart (on Linux it follows \
         the rotational flag, which virtio disks leave at 1)"
            .into(),
    ));
    let mut filesystems: Vec<Filesystem> = disks.iter().map(|d| filesystem(d, problems)).collect();
    filesystems.sort_by(|a, b| a.mount_point.cmp(&b.mount_point));
    Ok(Storage { block_devices: Vec::new(), filesystems, nvme_controllers: Vec::new() })
}

fn filesystem(disk: &Disk, problems: &mut Problems) -> Filesystem {
    let mount_point = disk.mount_point().to_string_lossy().into_owned();
    // sysinfo leaves the size at 0 when it could not query the filesystem.
    let total_bytes = Some(disk.total_space()).filter(|&n| n > 0);
    if total_bytes.is_none() {
        problems.push(Error::io(
            &mount_point,
            std::io::Error::other("sysinfo could not read the filesystem's capacity"),
        ));
    }
    let options = match total_bytes {
        Some(_) if disk.is_read_only() => vec!["ro".to_string()],
        Some(_) => vec!["rw".to_string()],
        None => Vec::new(),
    };
    Filesystem {
        device: disk.name().to_string_lossy().into_owned(),
        mount_point,
        fs_type: disk.file_system().to_string_lossy().into_owned(),
        options,
        total_bytes,
        available_bytes: total_bytes.map(|_| disk.available_space()),
        disk_kind: disk_kind(disk),
        ..Default::default()
    }
}

/// sysinfo's disk kind: removable media first (as the native backend classifies them), then
/// SSD/HDD from the OS; `None` when sysinfo does not know.
fn disk_kind(disk: &Disk) -> Option<DiskKind> {
    if disk.is_removable() {
        return Some(DiskKind::Removable);
    }
    match disk.kind() {
        sysinfo::DiskKind::SSD => Some(DiskKind::Ssd),
        sysinfo::DiskKind::HDD => Some(DiskKind::Hdd),
        sysinfo::DiskKind::Unknown(_) => None,
    }
}
