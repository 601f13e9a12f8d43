use serde::{Deserialize, Serialize};

/// Where the set of CPUs or memory nodes this process may use was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowedSource {
    /// What kind of source it was.
    pub kind: AllowedSourceKind,
    /// The file read (`/sys/fs/cgroup/cpuset/cpuset.effective_cpus`, `/proc/self/status`).
    pub path: String,
}

/// The kinds of source of an allowed set, in the order they are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllowedSourceKind {
    /// The unified hierarchy's `cpuset.cpus.effective` / `cpuset.mems.effective`.
    CgroupV2,
    /// A v1 cpuset hierarchy's `cpuset.effective_cpus` / `cpuset.effective_mems` (or
    /// `cpuset.cpus` / `cpuset.mems` on kernels without the effective files).
    CgroupV1,
    /// `Cpus_allowed_list` / `Mems_allowed_list` of `/proc/self/status` (no cgroup cpuset
    /// mounted): the scheduler affinity and cpuset together.
    ProcStatus,
}
