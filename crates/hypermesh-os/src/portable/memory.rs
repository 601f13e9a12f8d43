//! Memory section from sysinfo's RAM and swap figures.

use super::{from_sysinfo, not_reported};
use crate::error::{Error, Result};
use crate::model::Memory;
use crate::profile::Problems;
use sysinfo::{MemoryRefreshKind, RefreshKind, System};

/// Total, available and free RAM, swap total and free.
///
/// `available_bytes` is sysinfo's figure: the OS's own estimate where it has one (Linux
/// `MemAvailable`, Windows available physical memory, macOS active + inactive + free pages as
/// XNU defines it), and on Linux kernels older than 3.14 sysinfo's sum of free, buffers, cache
/// and reclaimable slab.
pub(super) fn detect(problems: &mut Problems) -> Result<Memory> {
    let refresh = RefreshKind::nothing().with_memory(MemoryRefreshKind::everything());
    let sys = System::new_with_specifics(refresh).map_err(|e| from_sysinfo("memory", e))?;
    let total_bytes = sys.total_memory();
    if total_bytes == 0 {
        return Err(Error::Unavailable("memory: sysinfo reported no memory total".into()));
    }
    not_reported("buffers_bytes, cached_bytes, hugepages, transparent_hugepage", problems);
    Ok(Memory {
        total_bytes,
        available_bytes: Some(sys.available_memory()),
        free_bytes: Some(sys.free_memory()),
        swap_total_bytes: Some(sys.total_swap()),
        swap_free_bytes: Some(sys.free_swap()),
        ..Default::default()
    })
}
