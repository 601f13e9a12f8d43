//! The process's capability sets, from `/proc/self/status` (`CapEff`, `CapPrm`).

use crate::error::Result;
use hypermesh_os::{Error as OsError, FsRoot};
use serde::Serialize;

/// Capabilities that matter for eBPF, by number.
pub const BPF_CAPS: &[(&str, u32)] = &[
    ("CAP_NET_ADMIN", 12),
    ("CAP_SYS_ADMIN", 21),
    ("CAP_SYS_RESOURCE", 24),
    ("CAP_PERFMON", 38),
    ("CAP_BPF", 39),
];

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

    /// Whether capability number `cap` is effective.
    pub fn has(&self, cap: u32) -> bool {
        cap < 64 && self.effective & (1 << cap) != 0
    }

    /// Whether the process may load tracing programs: CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN.
    pub fn can_trace(&self) -> bool {
        self.has(21) || (self.has(39) && self.has(38))
    }

    /// The eBPF-relevant capabilities and whether each is effective.
    pub fn named(&self) -> Vec<(&'static str, bool)> {
        BPF_CAPS.iter().map(|(n, c)| (*n, self.has(*c))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status() {
        let c =
            Capabilities::parse("Name:\tx\nCapPrm:\t000001fffeffffff\nCapEff:\t0000000000200000\n").unwrap();
        assert!(c.has(21) && !c.has(39) && c.can_trace());
        assert!(c.permitted & (1 << 39) != 0);
        assert!(Capabilities::parse("CapEff:\tzz\n").is_none());
    }
}
