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
}
