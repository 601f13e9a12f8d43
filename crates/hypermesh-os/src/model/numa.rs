use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// NUMA topology.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Numa {
    /// Nodes, by id.
    pub nodes: Vec<NumaNode>,
    /// Memory nodes this process may allocate from (its cgroup cpuset), beside the nodes the
    /// machine has; `None` when no source could be read. See `allowed_source`.
    pub allowed_nodes: Option<Vec<u32>>,
    /// Where `allowed_nodes` was read.
    pub allowed_source: Option<super::AllowedSource>,
}

/// One NUMA node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NumaNode {
    /// Node id.
    pub id: u32,
    /// CPUs on this node that exist (present), online or not; empty for memory-only nodes.
    pub cpus: Vec<u32>,
    /// Those of `cpus` that are offline.
    #[serde(default)]
    pub offline_cpus: Vec<u32>,
    /// Node memory total in bytes.
    pub memory_total_bytes: Option<u64>,
    /// Node memory free in bytes (live value).
    pub memory_free_bytes: Option<u64>,
    /// Distance to every online node, keyed by node id (JSON: `{"0": 10, "1": 21}`).
    pub distances: BTreeMap<u32, u32>,
    /// Huge pages reserved on this node, by page size.
    pub hugepages: Vec<HugePages>,
}

/// Huge pages of one size.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HugePages {
    /// Page size in bytes.
    pub page_size_bytes: u64,
    /// Pages reserved.
    pub total: u64,
    /// Pages free.
    pub free: u64,
}
