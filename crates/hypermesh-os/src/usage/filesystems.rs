//! Space used and free per mounted filesystem, now (statvfs).
//!
//! Not part of [`super::Sampler::sample`]: statvfs on a network or FUSE filesystem can block
//! for minutes when its server is gone, and sizes change slowly, so callers ask for it when they
//! want it (the CLI: once per `usage`, every tenth `watch` tick). Network and FUSE filesystems
//! are never queried; they are listed as skipped with the reason. Pseudo filesystems (no
//! blocks) are left out.

use crate::error::{Error, Result};
use crate::linux::mountinfo;
use crate::root::FsRoot;
use serde::Serialize;

/// Filesystem types that are not queried because statvfs can hang on them.
const MAY_HANG: [&str; 14] = [
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "ncpfs",
    "ceph",
    "glusterfs",
    "9p",
    "afs",
    "lustre",
    "davfs",
    "fuse",
    "fuseblk",
];

/// Space of one mounted filesystem.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FsUsage {
    /// Where it is mounted.
    pub mount_point: String,
    /// Filesystem type.
    pub fs_type: String,
    /// Mount source (device).
    pub source: String,
    /// Size in bytes.
    pub total_bytes: u64,
    /// Bytes in use.
    pub used_bytes: u64,
    /// Bytes available to unprivileged users.
    pub free_bytes: u64,
    /// Used share of what users can have (`used / (used + free)`, as `df` computes it).
    pub used_percent: Option<f64>,
}

/// A mount that was not queried, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FsSkipped {
    /// Where it is mounted.
    pub mount_point: String,
    /// Filesystem type.
    pub fs_type: String,
    /// Why it was not queried.
    pub reason: String,
}

/// Space per filesystem, and the mounts left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Filesystems {
    /// Queried filesystems, one per mount point.
    pub filesystems: Vec<FsUsage>,
    /// Mounts not queried (network/FUSE) or whose statvfs failed.
    pub skipped: Vec<FsSkipped>,
}

/// Reads the mounts of `/proc/self/mountinfo` and statvfs's each local one. Only on the live
/// host: under an alternate root the mounts belong to another system.
pub fn read(root: &FsRoot) -> Result<Filesystems> {
    if !root.is_host() {
        return Err(Error::Unavailable(
            "filesystem space needs the live host (statvfs), not a capture".into(),
        ));
    }
    let text = root.read_string("/proc/self/mountinfo")?;
    let (mut mounts, _bad) = mountinfo::parse(&text);
    // A later mount on the same point hides the earlier one.
    let mut seen = std::collections::HashSet::new();
    mounts.reverse();
    mounts.retain(|m| seen.insert(m.mount_point.clone()));
    mounts.reverse();
    let mut out = Filesystems::default();
    for m in mounts {
        let skip = |reason: String| FsSkipped {
            mount_point: m.mount_point.clone(),
            fs_type: m.fs_type.clone(),
            reason,
        };
        let base = m.fs_type.split('.').next().unwrap_or("");
        if MAY_HANG.contains(&base) {
            out.skipped.push(skip("network or FUSE filesystem: statvfs could hang, not queried".into()));
            continue;
        }
        match rustix::fs::statvfs(m.mount_point.as_str()) {
            Ok(st) if st.f_blocks > 0 => {
                let unit = st.f_frsize;
                let used = st.f_blocks.saturating_sub(st.f_bfree).saturating_mul(unit);
                let free = st.f_bavail.saturating_mul(unit);
                let usable = used.saturating_add(free);
                out.filesystems.push(FsUsage {
                    mount_point: m.mount_point.clone(),
                    fs_type: m.fs_type.clone(),
                    source: m.source.clone(),
                    total_bytes: st.f_blocks.saturating_mul(unit),
                    used_bytes: used,
                    free_bytes: free,
                    used_percent: (usable > 0).then(|| used as f64 * 100.0 / usable as f64),
                });
            }
            Ok(_) => {}
            Err(e) => out.skipped.push(skip(format!("statvfs: {e}"))),
        }
    }
    Ok(out)
}
