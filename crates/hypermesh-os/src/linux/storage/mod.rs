//! Storage section: block devices (`/sys/block` and `/sys/class/block`), NVMe controllers (`/sys/class/nvme`) and
//! mounted filesystems (mountinfo + statvfs). Each part is read on its own: one that cannot be
//! read becomes a problem entry and the others still report; the section fails only when
//! neither block devices nor mounts could be read.
//!
//! Disks and mounts are read side by side: both wait on the kernel more than they compute (a
//! virtio disk's `serial` is a request to the device, ~0.4 ms here; statvfs runs in its own
//! worker under a deadline).

use crate::error::{Error, Result};
use crate::model::Storage;
use crate::profile::Problems;
use crate::root::FsRoot;

pub mod block;
pub mod filesystems;
pub mod nvme;

/// Detects the storage section.
pub fn detect(root: &FsRoot, problems: &mut Problems) -> Result<Storage> {
    let mut mount_problems = Problems::new();
    let (nvme, block, filesystems) = std::thread::scope(|s| {
        let mounts = s.spawn(|| filesystems::detect(root, &mut mount_problems));
        let nvme = nvme::detect(root, problems);
        let block = block::detect(root, nvme.as_deref().unwrap_or(&[]), problems);
        let filesystems =
            mounts.join().unwrap_or_else(|_| Err(Error::Unavailable("mount reader failed".into())));
        (nvme, block, filesystems)
    });
    problems.append(&mut mount_problems);
    let (block, filesystems) = match (block, filesystems) {
        (Err(e), Err(f)) => {
            // Neither disks nor mounts could be read: the section failed. The block error
            // stands for it; the mount error is kept as a problem.
            problems.push(f);
            return Err(e);
        }
        pair => pair,
    };
    Ok(Storage {
        block_devices: or_problem(block, problems),
        nvme_controllers: or_problem(nvme, problems),
        filesystems: or_problem(filesystems, problems),
    })
}

/// The value, or an empty one with the error recorded as a problem.
fn or_problem<T: Default>(r: Result<T>, problems: &mut Problems) -> T {
    r.unwrap_or_else(|e| {
        problems.push(e);
        T::default()
    })
}
