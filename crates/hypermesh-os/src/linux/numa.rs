//! numa section: `/sys/devices/system/node/node*/{cpulist,meminfo,distance,hugepages}`.
//!
//! A node's CPUs come from `cpulist`, or its `cpumap` mask where the list is missing. Some
//! kernels list CPUs a node could hold rather than those that exist: only present CPUs are
//! kept, and those not online are also listed as the node's offline CPUs.

use crate::cpulist;
use crate::error::{Error, Result};
use crate::linux::cpu::read_cpus;
use crate::linux::meminfo::Meminfo;
use crate::linux::memory::hugepages_in;
use crate::model::{Numa, NumaNode};
use crate::profile::Problems;
use crate::root::FsRoot;
use std::collections::{BTreeMap, HashMap};

const NODE_DIR: &str = "/sys/devices/system/node";
const CPU_DIR: &str = "/sys/devices/system/cpu";

/// Detects the numa section. A kernel without NUMA support has no node directory: that is
/// reported as an error of the section (nothing to say, not zero nodes).
pub fn detect(root: &FsRoot, problems: &mut Problems) -> Result<Numa> {
    let ids = node_ids(root)?;
    let mut nodes = Vec::with_capacity(ids.len());
    let mut existing = ExistingCpus::default();
    for &id in &ids {
        let dir = format!("{NODE_DIR}/node{id}");
        let listed = match node_cpus(root, id) {
            Some(Ok(cpus)) => cpus,
            Some(Err(e)) => {
                problems.push(e);
                Vec::new()
            }
            None => {
                problems.push(Error::Unavailable(format!("{dir}: neither cpulist nor cpumap")));
                Vec::new()
            }
        };
        let (cpus, offline_cpus) = existing.split(root, listed);
        let meminfo = root.read_string(&format!("{dir}/meminfo")).map(|t| Meminfo::parse(&t));
        let (total, free) = match &meminfo {
            Ok(m) => (m.get("MemTotal"), m.get("MemFree")),
            Err(_) => (None, None),
        };
        if let Err(e) = meminfo {
            problems.push(e);
        }
        let distances = distances(root, &format!("{dir}/distance"), &ids, problems);
        let hugepages = hugepages_in(root, &format!("{dir}/hugepages"), problems);
        nodes.push(NumaNode {
            id,
            cpus,
            offline_cpus,
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
        for cpu in node_cpus(root, id).and_then(Result::ok).unwrap_or_default() {
            map.insert(cpu, id);
        }
    }
    map
}

/// The CPUs a node lists: `cpulist`, else the `cpumap` mask; `None` when it has neither.
fn node_cpus(root: &FsRoot, id: u32) -> Option<Result<Vec<u32>>> {
    read_cpus(root, &format!("{NODE_DIR}/node{id}"), &["cpulist", "cpumap"])
}

/// The distance file (`10 21`: one entry per online node, in id order) keyed by node id.
fn distances(root: &FsRoot, path: &str, ids: &[u32], problems: &mut Problems) -> BTreeMap<u32, u32> {
    let Some(text) = root.read_opt(path) else { return BTreeMap::new() };
    let values = cpulist::clean(&text).split_whitespace().map(str::parse).collect::<Result<Vec<u32>, _>>();
    match values {
        Ok(v) if v.len() == ids.len() => ids.iter().copied().zip(v).collect(),
        Ok(v) => {
            problems.push(Error::parse(path, format!("{} distances for {} nodes", v.len(), ids.len())));
            BTreeMap::new()
        }
        Err(_) => {
            problems.push(Error::parse(path, format!("bad distance list {text:?}")));
            BTreeMap::new()
        }
    }
}

/// The online and present CPU sets, read when a node first lists a CPU that is not online.
#[derive(Default)]
struct ExistingCpus {
    online: Option<Option<Vec<u32>>>,
    present: Option<Option<Vec<u32>>>,
}

impl ExistingCpus {
    /// Splits a node's listed CPUs into those that exist (present) and, of those, the offline
    /// ones. `online` is read once; `present` only when some listed CPU is not online. Without
    /// those files the list is taken as it is.
    fn split(&mut self, root: &FsRoot, listed: Vec<u32>) -> (Vec<u32>, Vec<u32>) {
        let read = |name: &str| {
            root.read_opt(&format!("{CPU_DIR}/{name}")).and_then(|t| cpulist::parse_list(&t).ok())
        };
        if listed.is_empty() {
            return (listed, Vec::new());
        }
        let Some(online) = self.online.get_or_insert_with(|| read("online")) else {
            return (listed, Vec::new());
        };
        let offline: Vec<u32> = listed.iter().copied().filter(|c| online.binary_search(c).is_err()).collect();
        if offline.is_empty() {
            return (listed, offline);
        }
        let Some(present) = self.present.get_or_insert_with(|| read("present")) else {
            return (listed, offline);
        };
        let exists = |c: &u32| present.binary_search(c).is_ok();
        (listed.into_iter().filter(exists).collect(), offline.into_iter().filter(exists).collect())
    }
}
