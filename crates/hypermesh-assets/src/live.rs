//! Live figures the usage sampler provides (utilisation, cgroup limits), kept apart from the
//! inventory so adapters stay pure functions of (profile, live state, config).

use hypermesh_os::portable::PortableUsage;
#[cfg(native_linux)]
use hypermesh_os::usage::Rates;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What the usage sampler saw last. Every field may be unknown; adapters then report no
/// utilisation and apply no cap, and say so through `None` values rather than zeros.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveState {
    /// CPU quota of the cgroup the node runs in, in CPUs (`cpu.max` quota / period).
    pub cpu_limit_cpus: Option<f64>,
    /// Memory limit of that cgroup in bytes (`memory.max`).
    pub memory_limit_bytes: Option<u64>,
    /// Busy share (0..=1) per logical CPU over the last sampling interval.
    pub cpu_utilisation: HashMap<u32, f64>,
    /// Memory in use per NUMA node in bytes; when absent the profile's node free figures are used.
    pub memory_used_bytes: HashMap<u32, u64>,
}

impl LiveState {
    /// What the usage sampler's rates tell: the cgroup's CPU quota and memory limit, and each
    /// CPU's busy share. Rates over a zero interval (one sample twice) carry the limits only.
    #[cfg(native_linux)]
    pub fn from_usage(rates: &Rates) -> LiveState {
        let cpu_utilisation = rates
            .cpu
            .iter()
            .flat_map(|c| &c.per_cpu)
            .filter_map(|c| c.total_percent.map(|p| (c.cpu, (p / 100.0).clamp(0.0, 1.0))))
            .collect();
        LiveState {
            cpu_limit_cpus: rates.cgroup.cpu_limit_cpus,
            memory_limit_bytes: rates.cgroup.memory_limit_bytes,
            cpu_utilisation,
            memory_used_bytes: HashMap::new(),
        }
    }

    /// What the portable sampler (sysinfo) tells: each CPU's busy share. It knows no cgroup, so
    /// no CPU quota or memory limit is applied.
    pub fn from_portable(usage: &PortableUsage) -> LiveState {
        let cpu_utilisation =
            usage.cpu.per_cpu.iter().map(|c| (c.cpu, (c.total_percent / 100.0).clamp(0.0, 1.0))).collect();
        LiveState { cpu_utilisation, ..LiveState::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hypermesh_os::portable::usage::{CpuPercent, CpuUsage, MemoryUsage};

    #[test]
    fn from_portable_takes_each_cpu_busy_share_and_no_limits() {
        let usage = PortableUsage {
            interval_seconds: 1.0,
            cpu: CpuUsage {
                total_percent: 60.0,
                per_cpu: vec![
                    CpuPercent { cpu: 0, total_percent: 20.0 },
                    CpuPercent { cpu: 1, total_percent: 100.5 },
                ],
            },
            memory: MemoryUsage { used_bytes: 1 << 30, available_bytes: 3 << 30 },
            network: Vec::new(),
        };
        let live = LiveState::from_portable(&usage);
        assert_eq!(live.cpu_utilisation, HashMap::from([(0, 0.2), (1, 1.0)]));
        assert_eq!((live.cpu_limit_cpus, live.memory_limit_bytes), (None, None));
        assert!(live.memory_used_bytes.is_empty());
    }
}
