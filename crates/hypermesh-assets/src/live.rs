//! Live figures the usage sampler provides (utilisation, cgroup limits), kept apart from the
//! inventory so adapters stay pure functions of (profile, live state, config).

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
}
