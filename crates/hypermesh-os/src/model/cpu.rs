use serde::{Deserialize, Serialize};

/// The host's processors.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cpu {
    /// Vendor as the kernel names it (`GenuineIntel`, `AuthenticAMD`, `ARM`, ...).
    pub vendor: Option<String>,
    /// Model name (`model name`, or ARM part decoded).
    pub model: Option<String>,
    /// CPU family number.
    pub family: Option<u32>,
    /// Model number.
    pub model_id: Option<u32>,
    /// Stepping.
    pub stepping: Option<u32>,
    /// Microcode revision as the kernel prints it.
    pub microcode: Option<String>,
    /// Physical packages (sockets) with at least one online CPU.
    pub packages: u32,
    /// Physical cores: distinct (package, core) pairs among online CPUs.
    pub cores: u32,
    /// Online logical CPUs.
    pub logical_cpus: u32,
    /// Most hardware threads seen on one core.
    pub threads_per_core: u32,
    /// Online CPU numbers.
    pub online: Vec<u32>,
    /// Offline CPUs (present but not online).
    pub offline: Vec<u32>,
    /// CPUs the kernel considers present.
    pub present: Vec<u32>,
    /// CPUs the kernel could ever bring online.
    pub possible: Vec<u32>,
    /// CPUs isolated from the scheduler (`isolcpus`).
    pub isolated: Vec<u32>,
    /// CPUs this process may run on (its cgroup cpuset), beside what the machine has; `None`
    /// when no source could be read. See `allowed_source`.
    pub allowed: Option<Vec<u32>>,
    /// Where `allowed` was read.
    pub allowed_source: Option<super::AllowedSource>,
    /// ISA feature flags (x86 `flags`, ARM `Features`, ...), sorted.
    pub flags: Vec<String>,
    /// Cache hierarchy, one entry per group of equal level, type and size (two L2 entries on
    /// a hybrid host whose P and E cores have L2s of different sizes).
    pub caches: Vec<Cache>,
    /// Groups of CPUs of the same kind (P/E cores, big.LITTLE); one entry on homogeneous hosts.
    pub kinds: Vec<CoreKind>,
    /// Frequency range over all CPUs.
    pub frequency: Option<FrequencyRange>,
    /// Per logical CPU topology and frequency.
    pub logical: Vec<LogicalCpu>,
}

/// A group of cache instances of equal level, type and size, with the CPUs they serve.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cache {
    /// 1, 2, 3 ...
    pub level: u32,
    /// `data`, `instruction` or `unified`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Size of one instance in bytes.
    pub size_bytes: Option<u64>,
    /// Number of instances in this group.
    pub instances: u32,
    /// Line size in bytes.
    pub line_size_bytes: Option<u32>,
    /// Associativity (ways).
    pub ways: Option<u32>,
    /// CPUs sharing each instance (list format), one string per instance.
    pub shared_cpu_lists: Vec<String>,
    /// CPUs served by the group's instances (online CPUs and those they share with).
    #[serde(default)]
    pub cpus: Vec<u32>,
}

/// CPUs of one kind (e.g. performance or efficiency cores).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CoreKind {
    /// `performance`, `efficiency`, or `uniform` on homogeneous hosts.
    pub name: String,
    /// Core model of this kind where it differs per kind (ARM `CPU part` decoded).
    pub model: Option<String>,
    /// How the group was told apart (`max frequency`, `cpu part`, `cpu capacity`, `intel_hybrid pmu`).
    pub basis: Option<String>,
    /// Logical CPUs of this kind.
    pub cpus: Vec<u32>,
    /// Physical cores of this kind.
    pub cores: u32,
    /// Highest frequency of this kind in kHz.
    pub max_frequency_khz: Option<u64>,
}

/// Minimum, maximum and base frequency in kHz.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FrequencyRange {
    /// Lowest `cpuinfo_min_freq`.
    pub min_khz: Option<u64>,
    /// Highest `cpuinfo_max_freq`.
    pub max_khz: Option<u64>,
    /// `base_frequency` where the driver reports it.
    pub base_khz: Option<u64>,
}

/// One logical CPU.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogicalCpu {
    /// CPU number.
    pub id: u32,
    /// Online state.
    pub online: bool,
    /// Physical package id (`None` when the kernel says -1 or does not know).
    pub package: Option<u32>,
    /// Core id within the package.
    pub core: Option<u32>,
    /// Cluster id where the kernel reports one.
    pub cluster: Option<u32>,
    /// NUMA node.
    pub numa_node: Option<u32>,
    /// Hardware-thread siblings on the same core (list format).
    pub core_siblings: Option<String>,
    /// Current frequency in kHz (live value).
    pub current_khz: Option<u64>,
    /// Lowest frequency in kHz.
    pub min_khz: Option<u64>,
    /// Highest frequency in kHz.
    pub max_khz: Option<u64>,
    /// Relative compute capacity (ARM `cpu_capacity`).
    pub capacity: Option<u32>,
    /// `cpu MHz` as `/proc/cpuinfo` reports it (live value; the only frequency on hosts
    /// without cpufreq, such as most VMs).
    pub cpuinfo_mhz: Option<f64>,
}
