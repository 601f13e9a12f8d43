//! memory section: `/proc/meminfo`, huge pages (`/sys/kernel/mm/hugepages`), the transparent
//! huge page mode, and the memory parts: DIMMs (SMBIOS), memory-side caches, pmem and DAX.

use crate::error::{Error, Result};
use crate::linux::meminfo::Meminfo;
use crate::linux::{memory_side, pmem, smbios};
use crate::model::{HugePages, Memory};
use crate::profile::Problems;
use crate::root::FsRoot;

/// Detects the memory section. `MemAvailable` missing (kernels before 3.14) leaves
/// `available_bytes` null with a note; it is never estimated silently.
pub fn detect(root: &FsRoot, problems: &mut Problems) -> Result<Memory> {
    let path = "/proc/meminfo";
    let m = Meminfo::parse(&root.read_string(path)?);
    let total_bytes = m.get("MemTotal").ok_or_else(|| Error::parse(path, "no MemTotal line"))?;
    let available_bytes = m.get("MemAvailable");
    let available_note = available_bytes
        .is_none()
        .then(|| "the kernel does not report MemAvailable (added in Linux 3.14)".to_string());
    let mut hugepages = hugepages_in(root, "/sys/kernel/mm/hugepages", problems);
    if let (Some(size), Some(total), Some(free)) =
        (m.get("Hugepagesize"), m.get("HugePages_Total"), m.get("HugePages_Free"))
        && !hugepages.iter().any(|h| h.page_size_bytes == size)
    {
        // No sysfs view of the default size (old kernel, partial capture): meminfo has it.
        hugepages.push(HugePages { page_size_bytes: size, total, free });
        hugepages.sort_by_key(|h| h.page_size_bytes);
    }
    Ok(Memory {
        total_bytes,
        available_bytes,
        available_note,
        free_bytes: m.get("MemFree"),
        buffers_bytes: m.get("Buffers"),
        cached_bytes: m.get("Cached"),
        swap_total_bytes: m.get("SwapTotal"),
        swap_free_bytes: m.get("SwapFree"),
        hugepages,
        transparent_hugepage: root
            .read_opt("/sys/kernel/mm/transparent_hugepage/enabled")
            .and_then(|t| bracketed(&t).map(str::to_string)),
        dimms: smbios::detect(root, problems),
        side_caches: memory_side::detect(root, problems),
        pmem: pmem::namespaces(root, problems),
        dax: pmem::dax_devices(root, problems),
    })
}

/// Huge pages per size under a `hugepages` directory (system-wide or a NUMA node's): one
/// `hugepages-<size>kB` directory per size with `nr_hugepages` and `free_hugepages`. A missing
/// directory means no huge page support: an empty list.
pub fn hugepages_in(root: &FsRoot, dir: &str, problems: &mut Problems) -> Vec<HugePages> {
    let names = match root.read_dir(dir) {
        Ok(n) => n,
        Err(e) if e.is_not_found() => return Vec::new(),
        Err(e) => {
            problems.push(e);
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for name in names {
        let Some(kb) =
            name.strip_prefix("hugepages-").and_then(|s| s.strip_suffix("kB")?.parse::<u64>().ok())
        else {
            continue;
        };
        let read = |f: &str| root.read_parsed::<u64>(&format!("{dir}/{name}/{f}"));
        match (read("nr_hugepages"), read("free_hugepages")) {
            (Ok(total), Ok(free)) => {
                out.push(HugePages { page_size_bytes: kb.saturating_mul(1024), total, free })
            }
            (Err(e), _) | (_, Err(e)) => problems.push(e),
        }
    }
    out.sort_by_key(|h| h.page_size_bytes);
    out
}

/// The bracketed choice of a sysfs mode file (`always [madvise] never` → `madvise`).
pub fn bracketed(text: &str) -> Option<&str> {
    let start = text.find('[')? + 1;
    let end = start + text[start..].find(']')?;
    Some(&text[start..end]).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracketed_modes() {
        assert_eq!(bracketed("always [madvise] never\n"), Some("madvise"));
        assert_eq!(bracketed("[always] madvise never"), Some("always"));
        assert_eq!(bracketed("always madvise never"), None);
        assert_eq!(bracketed("[]"), None);
        assert_eq!(bracketed("never [trunc"), None);
        assert_eq!(bracketed(""), None);
    }
}
