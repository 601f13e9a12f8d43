use super::HugePages;
use serde::{Deserialize, Serialize};

/// System memory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    /// MemTotal in bytes.
    pub total_bytes: u64,
    /// MemAvailable in bytes; `None` when the kernel does not report it (see `available_note`).
    pub available_bytes: Option<u64>,
    /// Why `available_bytes` is missing, when it is.
    pub available_note: Option<String>,
    /// MemFree in bytes.
    pub free_bytes: Option<u64>,
    /// Buffers in bytes.
    pub buffers_bytes: Option<u64>,
    /// Cached in bytes.
    pub cached_bytes: Option<u64>,
    /// SwapTotal in bytes.
    pub swap_total_bytes: Option<u64>,
    /// SwapFree in bytes.
    pub swap_free_bytes: Option<u64>,
    /// Huge pages by size.
    pub hugepages: Vec<HugePages>,
    /// Transparent huge page mode (`always`, `madvise`, `never`).
    pub transparent_hugepage: Option<String>,
    /// Memory slots from the SMBIOS type 17 entries, empty slots included, in table order;
    /// `None` when there is no SMBIOS table (many VMs) or it could not be read (it is readable
    /// by root only: the reason is in `errors`).
    pub dimms: Option<Vec<Dimm>>,
    /// Memory-side caches (HMAT): caches in front of a NUMA node's memory, such as DRAM in
    /// front of persistent memory or HBM in front of DDR.
    pub side_caches: Vec<MemorySideCache>,
    /// Persistent memory namespaces (`/sys/bus/nd`) that have a size.
    pub pmem: Vec<PmemNamespace>,
    /// Device-DAX devices (`/sys/bus/dax`).
    pub dax: Vec<DaxDevice>,
}

/// One memory slot (SMBIOS type 17, "Memory Device"). Strings are as the firmware gives them,
/// trimmed; `None` when the firmware gives none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimm {
    /// SMBIOS structure handle.
    pub handle: u16,
    /// Slot name on the board (`DIMM_A1`).
    pub locator: Option<String>,
    /// Bank name (`P0 CHANNEL A`).
    pub bank_locator: Option<String>,
    /// False for an empty slot ("No Module Installed").
    pub populated: bool,
    /// Module size in bytes: 0 for an empty slot, `None` when the firmware says unknown.
    pub size_bytes: Option<u64>,
    /// `DIMM`, `SODIMM`, `Chip`... as dmidecode names it.
    pub form_factor: Option<String>,
    /// `DDR4`, `DDR5`, `LPDDR5`... as dmidecode names it.
    #[serde(rename = "type")]
    pub memory_type: Option<String>,
    /// Type detail flags (`Synchronous`, `Registered (Buffered)`...), as dmidecode names them.
    pub type_detail: Vec<String>,
    /// Maximum speed in MT/s.
    pub speed_mts: Option<u32>,
    /// Speed it is configured to run at, in MT/s.
    pub configured_speed_mts: Option<u32>,
    /// Module manufacturer.
    pub manufacturer: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Part number.
    pub part_number: Option<String>,
    /// Ranks.
    pub rank: Option<u8>,
}

/// One memory-side cache level of a NUMA node
/// (`/sys/devices/system/node/nodeN/memory_side_cache/indexL`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemorySideCache {
    /// NUMA node whose memory it caches.
    pub node: u32,
    /// Cache level (the `L` of `indexL`).
    pub level: u32,
    /// Size in bytes.
    pub size_bytes: Option<u64>,
    /// Line size in bytes.
    pub line_size_bytes: Option<u64>,
    /// `direct_mapped`, `indexed` or `other` (the kernel's 0, 1, 2); the number as text for
    /// a value this version does not know.
    pub indexing: Option<String>,
    /// `write_back`, `write_through` or `other` (the kernel's 0, 1, 2); the number as text
    /// for a value this version does not know.
    pub write_policy: Option<String>,
}

/// A persistent memory namespace (`/sys/bus/nd/devices/namespaceR.N`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PmemNamespace {
    /// Namespace name (`namespace0.0`).
    pub name: String,
    /// `fsdax`, `devdax`, `sector`, `raw`.
    pub mode: Option<String>,
    /// Size in bytes.
    pub size_bytes: Option<u64>,
    /// NUMA node of the namespace.
    pub numa_node: Option<u32>,
    /// Its block device (`pmem0`, `pmem0s`), when it has one.
    pub block_device: Option<String>,
}

/// A device-DAX device (`/sys/bus/dax/devices/daxR.N`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaxDevice {
    /// Device name (`dax0.0`).
    pub name: String,
    /// Size in bytes.
    pub size_bytes: Option<u64>,
    /// NUMA node it is attached to.
    pub numa_node: Option<u32>,
    /// NUMA node its memory becomes when onlined as system RAM.
    pub target_node: Option<u32>,
    /// `devdax` (driver `device_dax`) or `system_ram` (driver `kmem`); `None` when unbound.
    pub mode: Option<String>,
}
