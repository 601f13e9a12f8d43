//! Live figures the usage sampler provides (utilisation, cgroup limits), kept apart from the
//! inventory so adapters stay pure functions of (profile, live state, config).

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
