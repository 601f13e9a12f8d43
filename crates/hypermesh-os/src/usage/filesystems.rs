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

/// True for network and FUSE filesystem types (`nfs4`, `fuse.sshfs`), whose statvfs can hang.
pub fn may_hang(fs_type: &str) -> bool {
    MAY_HANG.contains(&fs_type.split('.').next().unwrap_or(""))
}

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
    pub mounts: Vec<FsUsage>,
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
        if may_hang(&m.fs_type) {
            out.skipped.push(skip("network or FUSE filesystem: statvfs could hang, not queried".into()));
            continue;
        }
        match rustix::fs::statvfs(m.mount_point.as_str()) {
            Ok(st) if st.f_blocks > 0 => {
                let unit = st.f_frsize;
                let used = st.f_blocks.saturating_sub(st.f_bfree).saturating_mul(unit);
                let free = st.f_bavail.saturating_mul(unit);
                let usable = used.saturating_add(free);
                out.mounts.push(FsUsage {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_and_fuse_types_are_not_queried() {
        assert!(may_hang("nfs4") && may_hang("fuse.sshfs") && may_hang("cifs") && may_hang("fuseblk"));
        assert!(!may_hang("ext4") && !may_hang("tmpfs") && !may_hang("xfs"));
    }

    #[test]
    fn live_root_has_space_and_captures_are_refused() {
        let fs = read(&FsRoot::host()).unwrap();
        let root = fs.mounts.iter().find(|m| m.mount_point == "/").expect("/ is mounted");
        assert!(root.total_bytes > 0 && root.used_bytes + root.free_bytes <= root.total_bytes);
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(read(&FsRoot::new(dir.path()).unwrap()), Err(Error::Unavailable(_))));
    }
}
