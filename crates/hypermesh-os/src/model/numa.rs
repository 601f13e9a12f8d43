use serde::{Deserialize, Serialize};

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
    /// CPUs on this node (empty for memory-only nodes).
    pub cpus: Vec<u32>,
    /// Node memory total in bytes.
    pub memory_total_bytes: Option<u64>,
    /// Node memory free in bytes (live value).
    pub memory_free_bytes: Option<u64>,
    /// Distances to every node, in node id order.
    pub distances: Vec<u32>,
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
