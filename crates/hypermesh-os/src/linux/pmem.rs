//! Persistent memory and DAX: namespaces on the nvdimm bus (`/sys/bus/nd/devices/namespace*`:
//! `mode`, `size`, `numa_node`), their block devices (`/sys/class/block/pmem*`), and device-DAX
//! devices (`/sys/bus/dax/devices/dax*`: `size`, `numa_node`, `target_node`, the bound driver).

use crate::model::{DaxDevice, PmemNamespace};
use crate::profile::Problems;
use crate::root::FsRoot;
use std::collections::HashMap;

const ND_DEVICES: &str = "/sys/bus/nd/devices";
const DAX_DEVICES: &str = "/sys/bus/dax/devices";
const CLASS_BLOCK: &str = "/sys/class/block";

/// Namespaces that have a size (a region's zero-sized "seed" namespace, kept for creating the
/// next one, is left out), in name order. Empty without an nvdimm bus.
pub fn namespaces(root: &FsRoot, problems: &mut Problems) -> Vec<PmemNamespace> {
    let names = list(root, ND_DEVICES, "namespace", problems);
    if names.is_empty() {
        return Vec::new();
    }
    let blocks = block_devices(root);
    names
        .into_iter()
        .filter_map(|name| {
            let dir = format!("{ND_DEVICES}/{name}");
            let size_bytes = root.read_opt_parsed::<u64>(&format!("{dir}/size"));
            if size_bytes == Some(0) {
                return None;
            }
            Some(PmemNamespace {
                mode: root.read_opt(&format!("{dir}/mode")),
                size_bytes,
                numa_node: node(root, &format!("{dir}/numa_node")),
                block_device: blocks.get(&name).cloned(),
                name,
            })
        })
        .collect()
}

/// Device-DAX devices, in name order. Empty without a DAX bus.
pub fn dax_devices(root: &FsRoot, problems: &mut Problems) -> Vec<DaxDevice> {
    list(root, DAX_DEVICES, "dax", problems)
        .into_iter()
        .map(|name| {
            let dir = format!("{DAX_DEVICES}/{name}");
            let mode = root.link_name(&format!("{dir}/driver")).map(|d| match d.as_str() {
                "device_dax" => "devdax".to_string(),
                "kmem" => "system_ram".to_string(),
                other => other.to_string(),
            });
            DaxDevice {
                size_bytes: root.read_opt_parsed(&format!("{dir}/size")),
                numa_node: node(root, &format!("{dir}/numa_node")),
                target_node: node(root, &format!("{dir}/target_node")),
                mode,
                name,
            }
        })
        .collect()
}

/// Names in a bus's device directory that start with `prefix`, sorted; empty when the bus is
/// missing (a kernel without it).
fn list(root: &FsRoot, dir: &str, prefix: &str, problems: &mut Problems) -> Vec<String> {
    match root.read_dir(dir) {
        Ok(names) => names.into_iter().filter(|n| n.starts_with(prefix)).collect(),
        Err(e) if e.is_not_found() => Vec::new(),
        Err(e) => {
            problems.push(e);
            Vec::new()
        }
    }
}

/// A NUMA node attribute; -1 (no node) and unreadable are `None`.
fn node(root: &FsRoot, path: &str) -> Option<u32> {
    root.read_opt_parsed::<i64>(path).and_then(|n| u32::try_from(n).ok())
}

/// Block device of each namespace: `pmemN` hangs under its namespace (raw mode) or under a
/// `pfn`/`btt` device whose `namespace` attribute names it (fsdax, sector).
fn block_devices(root: &FsRoot) -> HashMap<String, String> {
    let mut map = HashMap::new();
    let Ok(names) = root.read_dir(CLASS_BLOCK) else { return map };
    for name in names.into_iter().filter(|n| n.starts_with("pmem")) {
        let Ok(path) = root.resolve(&format!("{CLASS_BLOCK}/{name}")) else { continue };
        // .../region0/namespace0.0/block/pmem0 or .../region0/pfn0.0/block/pmem0
        let Some(parent) = path.strip_suffix(&format!("/block/{name}")) else { continue };
        let owner = parent.rsplit('/').next().unwrap_or_default();
        let namespace = if owner.starts_with("namespace") {
            Some(owner.to_string())
        } else {
            root.read_opt(&format!("{parent}/namespace"))
        };
        if let Some(ns) = namespace {
            map.insert(ns, name);
        }
    }
    map
}
