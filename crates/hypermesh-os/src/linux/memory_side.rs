//! Memory-side caches (ACPI HMAT): `/sys/devices/system/node/nodeN/memory_side_cache/indexL/`
//! with `size`, `line_size`, `indexing` and `write_policy` (Linux 5.2+).

use crate::error::Error;
use crate::model::MemorySideCache;
use crate::profile::Problems;
use crate::root::FsRoot;

const NODE_DIR: &str = "/sys/devices/system/node";

/// The memory-side caches of every NUMA node directory; empty when there are none (the usual
/// case: no HMAT, or no such caches).
pub fn detect(root: &FsRoot, problems: &mut Problems) -> Vec<MemorySideCache> {
    let Ok(names) = root.read_dir(NODE_DIR) else { return Vec::new() };
    let mut nodes: Vec<u32> = names.iter().filter_map(|n| n.strip_prefix("node")?.parse().ok()).collect();
    nodes.sort_unstable();
    let mut out = Vec::new();
    for node in nodes {
        let dir = format!("{NODE_DIR}/node{node}/memory_side_cache");
        let entries = match root.read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.is_not_found() => continue,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let mut levels: Vec<u32> =
            entries.iter().filter_map(|n| n.strip_prefix("index")?.parse().ok()).collect();
        levels.sort_unstable();
        for level in levels {
            let path = |f: &str| format!("{dir}/index{level}/{f}");
            let number = |f: &str, problems: &mut Problems| -> Option<u64> {
                match root.read_parsed::<u64>(&path(f)) {
                    Ok(v) => Some(v),
                    Err(e) if e.is_not_found() => None,
                    Err(e) => {
                        problems.push(e);
                        None
                    }
                }
            };
            let size_bytes = number("size", problems);
            let line_size_bytes = number("line_size", problems);
            let indexing =
                number("indexing", problems).map(|v| named(v, &["direct_mapped", "indexed", "other"]));
            let write_policy =
                number("write_policy", problems).map(|v| named(v, &["write_back", "write_through", "other"]));
            if size_bytes.is_none() {
                problems.push(Error::parse(path("size"), "memory-side cache without a size"));
            }
            out.push(MemorySideCache { node, level, size_bytes, line_size_bytes, indexing, write_policy });
        }
    }
    out
}

/// The name of a kernel enum value, or the number as text when this version does not know it.
fn named(value: u64, names: &[&str]) -> String {
    usize::try_from(value)
        .ok()
        .and_then(|i| names.get(i))
        .map_or_else(|| value.to_string(), |n| n.to_string())
}
