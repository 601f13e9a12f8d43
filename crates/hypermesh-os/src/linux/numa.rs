//! numa section: `/sys/devices/system/node/node*/{cpulist,meminfo,distance,hugepages}`.

use crate::cpulist;
use crate::error::{Error, Result};
use crate::linux::meminfo::Meminfo;
use crate::linux::memory::hugepages_in;
use crate::model::{Numa, NumaNode};
use crate::profile::Problems;
use crate::root::FsRoot;
use std::collections::HashMap;

const NODE_DIR: &str = "/sys/devices/system/node";

/// Detects the numa section. A kernel without NUMA support has no node directory: that is
/// reported as an error of the section (nothing to say, not zero nodes).
pub fn detect(root: &FsRoot, problems: &mut Problems) -> Result<Numa> {
    let ids = node_ids(root)?;
    let mut nodes = Vec::with_capacity(ids.len());
    for id in ids {
        let dir = format!("{NODE_DIR}/node{id}");
        let cpus = match root.read_string(&format!("{dir}/cpulist")) {
            Ok(t) => cpulist::parse_list(&t).unwrap_or_else(|m| {
                problems.push(Error::parse(format!("{dir}/cpulist"), m));
                Vec::new()
            }),
            Err(e) => {
                problems.push(e);
                Vec::new()
            }
        };
        let meminfo = root.read_string(&format!("{dir}/meminfo")).map(|t| Meminfo::parse(&t));
        let (total, free) = match &meminfo {
            Ok(m) => (m.get("MemTotal"), m.get("MemFree")),
            Err(_) => (None, None),
        };
        if let Err(e) = meminfo {
            problems.push(e);
        }
        let distance_path = format!("{dir}/distance");
        let distances = match root.read_opt(&distance_path) {
            Some(t) => {
                t.split_whitespace().map(str::parse).collect::<Result<Vec<u32>, _>>().unwrap_or_else(|_| {
                    problems.push(Error::parse(&distance_path, format!("bad distance list {t:?}")));
                    Vec::new()
                })
            }
            None => Vec::new(),
        };
        let hugepages = hugepages_in(root, &format!("{dir}/hugepages"), problems);
        nodes.push(NumaNode {
            id,
            cpus,
            memory_total_bytes: total,
            memory_free_bytes: free,
            distances,
            hugepages,
        });
    }
    let allowed = crate::linux::allowed::detect(root, crate::linux::allowed::Resource::Mems, problems);
    let (allowed_nodes, allowed_source) = allowed.unzip();
    Ok(Numa { nodes, allowed_nodes, allowed_source })
}

/// Node ids from `node/online` (else `possible`, else the `node*` directories).
pub fn node_ids(root: &FsRoot) -> Result<Vec<u32>> {
    for name in ["online", "possible"] {
        if let Some(list) =
            root.read_opt(&format!("{NODE_DIR}/{name}")).and_then(|t| cpulist::parse_list(&t).ok())
        {
            return Ok(list);
        }
    }
    let mut ids: Vec<u32> =
        root.read_dir(NODE_DIR)?.iter().filter_map(|n| n.strip_prefix("node")?.parse().ok()).collect();
    ids.sort_unstable();
    Ok(ids)
}

/// NUMA node of every CPU that a node lists (empty without NUMA information).
pub fn cpu_nodes(root: &FsRoot) -> HashMap<u32, u32> {
    let mut map = HashMap::new();
    for id in node_ids(root).unwrap_or_default() {
        let list =
            root.read_opt(&format!("{NODE_DIR}/node{id}/cpulist")).and_then(|t| cpulist::parse_list(&t).ok());
        for cpu in list.unwrap_or_default() {
            map.insert(cpu, id);
        }
    }
    map
}
