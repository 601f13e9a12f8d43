//! The pseudo filesystems eBPF work needs (bpffs, tracefs, securityfs, cgroup2): where they are
//! mounted, and mounting them at their usual place when missing and allowed.

use crate::error::{Error, Result};
use hypermesh_os::FsRoot;
use hypermesh_os::linux::mountinfo;
use serde::Serialize;
use std::collections::BTreeMap;
use std::ffi::CString;

/// Filesystem types we look for, with their conventional mount point.
pub const WANTED: &[(&str, &str)] = &[
    ("bpf", "/sys/fs/bpf"),
    ("tracefs", "/sys/kernel/tracing"),
    ("securityfs", "/sys/kernel/security"),
    ("cgroup2", "/sys/fs/cgroup"),
];

/// Mount points of the wanted filesystems, plus what we mounted ourselves.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Mounts {
    /// Filesystem type → mount points (empty when not mounted).
    pub points: BTreeMap<String, Vec<String>>,
    /// What we mounted, one sentence each ("mounted tracefs at /sys/kernel/tracing").
    pub mounted: Vec<String>,
}

impl Mounts {
    /// Reads `/proc/self/mountinfo`.
    pub fn read(root: &FsRoot) -> Result<Self> {
        let text = root.read_string("/proc/self/mountinfo")?;
        let (all, _bad) = mountinfo::parse(&text);
        let points = WANTED
            .iter()
            .map(|(fs, _)| {
                let at = all.iter().filter(|m| m.fs_type == *fs).map(|m| m.mount_point.clone()).collect();
                (fs.to_string(), at)
            })
            .collect();
        Ok(Mounts { points, mounted: Vec::new() })
    }

    /// The first mount point of `fs_type`.
    pub fn first(&self, fs_type: &str) -> Option<&str> {
        self.points.get(fs_type).and_then(|v| v.first()).map(String::as_str)
    }

    /// Returns where `fs_type` is mounted, mounting it at its conventional place first when it
    /// is not (needs CAP_SYS_ADMIN in the initial mount namespace to be visible to others).
    pub fn ensure(&mut self, fs_type: &str) -> Result<String> {
        if let Some(p) = self.first(fs_type) {
            return Ok(p.to_string());
        }
        let target = WANTED
            .iter()
            .find(|(f, _)| *f == fs_type)
            .map(|(_, t)| *t)
            .ok_or_else(|| Error::Unsupported(format!("no known mount point for {fs_type}")))?;
        mount(fs_type, target)?;
        self.points.entry(fs_type.to_string()).or_default().push(target.to_string());
        self.mounted.push(format!("mounted {fs_type} at {target}"));
        Ok(target.to_string())
    }
}

fn mount(fs_type: &str, target: &str) -> Result<()> {
    let c = |s: &str| CString::new(s).map_err(|_| Error::Invalid(format!("NUL in {s:?}")));
    let (fs, tgt) = (c(fs_type)?, c(target)?);
    // SAFETY: all pointers are valid NUL-terminated strings; no data argument.
    let rc = unsafe { libc::mount(fs.as_ptr(), tgt.as_ptr(), fs.as_ptr(), 0, std::ptr::null()) };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        return Err(Error::Unavailable(format!(
            "{fs_type} is not mounted and mounting it at {target} failed ({e}); mount it as root: mount -t {fs_type} {fs_type} {target}"
        )));
    }
    Ok(())
}
