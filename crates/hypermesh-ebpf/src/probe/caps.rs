//! The process's capability sets, from `/proc/self/status` (`CapEff`, `CapPrm`).

use crate::error::Result;
use hypermesh_os::{Error as OsError, FsRoot};
use serde::Serialize;

/// A capability that matters for eBPF, by its number in `linux/capability.h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Cap {
    /// `CAP_NET_ADMIN`: attaching XDP and other network programs.
    NetAdmin = 12,
    /// `CAP_SYS_ADMIN`: everything below, and mounting tracefs/bpffs.
    SysAdmin = 21,
    /// `CAP_SYS_RESOURCE`: raising the locked-memory limit on old kernels.
    SysResource = 24,
    /// `CAP_PERFMON`: tracing programs and perf events (Linux 5.8 on).
    Perfmon = 38,
    /// `CAP_BPF`: loading programs and creating maps (Linux 5.8 on).
    Bpf = 39,
}

impl Cap {
    /// Every capability the probe reports, in number order.
    pub const ALL: [Cap; 5] = [Cap::NetAdmin, Cap::SysAdmin, Cap::SysResource, Cap::Perfmon, Cap::Bpf];

    /// The kernel's name (`CAP_BPF`).
    pub fn name(self) -> &'static str {
        match self {
            Cap::NetAdmin => "CAP_NET_ADMIN",
            Cap::SysAdmin => "CAP_SYS_ADMIN",
            Cap::SysResource => "CAP_SYS_RESOURCE",
            Cap::Perfmon => "CAP_PERFMON",
            Cap::Bpf => "CAP_BPF",
        }
    }
}

/// The capability sets of this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    /// Effective set (bit n = capability n).
    pub effective: u64,
    /// Permitted set.
    pub permitted: u64,
}

impl Capabilities {
    /// Reads them from `/proc/self/status`.
    pub fn read(root: &FsRoot) -> Result<Self> {
        let path = "/proc/self/status";
        Ok(Self::parse(&root.read_string(path)?)
            .ok_or_else(|| OsError::parse(path, "no CapEff/CapPrm lines"))?)
    }

    /// Parses the `CapEff:`/`CapPrm:` lines of a status file.
    pub fn parse(status: &str) -> Option<Self> {
        let field = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        };
        Some(Capabilities { effective: field("CapEff:")?, permitted: field("CapPrm:")? })
    }

    /// Whether `cap` is effective.
    pub fn has(&self, cap: Cap) -> bool {
        self.effective & (1 << cap as u32) != 0
    }

    /// Whether the process may load tracing programs: CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN.
    pub fn can_trace(&self) -> bool {
        self.has(Cap::SysAdmin) || (self.has(Cap::Bpf) && self.has(Cap::Perfmon))
    }

    /// The eBPF-relevant capabilities and whether each is effective.
    pub fn named(&self) -> Vec<(&'static str, bool)> {
        Cap::ALL.iter().map(|&c| (c.name(), self.has(c))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status() {
        let c =
            Capabilities::parse("Name:\tx\nCapPrm:\t000001fffeffffff\nCapEff:\t0000000000200000\n").unwrap();
        assert!(c.has(Cap::SysAdmin) && !c.has(Cap::Bpf) && c.can_trace());
        assert!(c.permitted & (1 << Cap::Bpf as u32) != 0);
        assert!(Capabilities::parse("CapEff:\tzz\n").is_none());
    }
}
