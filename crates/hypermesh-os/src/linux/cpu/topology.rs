//! Where each online CPU sits: package, core, cluster, from `topology/` in sysfs.
//!
//! Reads one sibling list per group rather than every attribute of every CPU: per core
//! `core_cpus_list` (or `thread_siblings_list`) and `core_id`, per package `package_cpus_list`
//! (or `core_siblings_list`) and `physical_package_id`, per cluster `cluster_cpus_list` and
//! `cluster_id`. Where a kernel has only the hex masks (`core_cpus`, `thread_siblings`,
//! `package_cpus`, `core_siblings`, `cluster_cpus`), those stand in. CPUs without sysfs topology
//! fall back to `/proc/cpuinfo` ids.
//!
//! A `physical_package_id` of -1 (POWER, some hypervisors) leaves the id unknown, but the
//! package's sibling list still tells packages apart: each distinct list is one package.

use super::cpuinfo::CpuInfo;
use super::read_cpus;
use crate::cpulist;
use crate::error::Error;
use crate::profile::Problems;
use crate::root::FsRoot;
use std::collections::{BTreeMap, HashMap};

/// Position of one online CPU.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Place {
    /// Package id (`None` for -1 or unknown).
    pub package: Option<u32>,
    /// Core id within the package.
    pub core: Option<u32>,
    /// Cluster id.
    pub cluster: Option<u32>,
    /// Hardware threads of the same core (list format).
    pub siblings: String,
    /// Index of the physical core this CPU belongs to (distinct per (package, core) pair).
    pub core_index: usize,
    /// Index of the package this CPU belongs to, also where its id is unknown (-1) but its
    /// sibling list tells it apart; `None` when neither is known.
    pub package_index: Option<usize>,
}

/// Topology of the online CPUs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Topology {
    /// Per online CPU.
    pub places: BTreeMap<u32, Place>,
    /// Physical cores.
    pub cores: u32,
    /// Packages: distinct package ids, or distinct package sibling lists where the id is -1;
    /// CPUs with neither count as one package.
    pub packages: u32,
    /// Most threads on one core.
    pub threads_per_core: u32,
}

/// Groups CPUs by a sibling list, reading the list and the id once per group.
struct Grouper<'a> {
    root: &'a FsRoot,
    /// Sibling files, lists before masks.
    lists: &'static [&'static str],
    id_file: &'static str,
    /// Id and group index of every CPU seen so far.
    of: HashMap<u32, (Option<u32>, usize)>,
    /// Group index of each known id.
    by_id: HashMap<u32, usize>,
    /// Group index of the CPUs with neither an id nor a sibling list.
    unknown: Option<usize>,
    groups: usize,
    /// Set once the id file turned out missing: the kernel has no such attribute, stop asking.
    absent: bool,
}

impl<'a> Grouper<'a> {
    fn new(root: &'a FsRoot, lists: &'static [&'static str], id_file: &'static str) -> Self {
        Grouper {
            root,
            lists,
            id_file,
            of: HashMap::new(),
            by_id: HashMap::new(),
            unknown: None,
            groups: 0,
            absent: false,
        }
    }

    /// The id of `cpu`'s group; `None` when unknown (-1, missing or unreadable).
    fn id(&mut self, cpu: u32) -> Option<u32> {
        self.group(cpu).and_then(|g| g.0)
    }

    /// The id (`None` for -1) and index of `cpu`'s group; `None` when the id file is missing or
    /// unreadable. CPUs with id -1 are grouped by their sibling list.
    fn group(&mut self, cpu: u32) -> Option<(Option<u32>, usize)> {
        if let Some(g) = self.of.get(&cpu) {
            return Some(*g);
        }
        if self.absent {
            return None;
        }
        let dir = format!("/sys/devices/system/cpu/cpu{cpu}/topology");
        let id = match read_id(self.root, &format!("{dir}/{}", self.id_file)) {
            Ok(id) => id,
            Err(e) => {
                self.absent = e.is_not_found();
                return None;
            }
        };
        let members = read_list(self.root, &dir, self.lists);
        let index = match id {
            Some(id) => self.index_of(id),
            None if members.is_some() => self.new_index(),
            None => return Some((None, self.unknown_index())),
        };
        for m in members.unwrap_or_default().into_iter().chain([cpu]) {
            self.of.entry(m).or_insert((id, index));
        }
        Some((id, index))
    }

    /// The group index of a known id.
    fn index_of(&mut self, id: u32) -> usize {
        if let Some(&i) = self.by_id.get(&id) {
            return i;
        }
        let i = self.new_index();
        self.by_id.insert(id, i);
        i
    }

    /// The one group of CPUs with neither an id nor a sibling list.
    fn unknown_index(&mut self) -> usize {
        match self.unknown {
            Some(i) => i,
            None => {
                let i = self.new_index();
                self.unknown = Some(i);
                i
            }
        }
    }

    fn new_index(&mut self) -> usize {
        self.groups += 1;
        self.groups - 1
    }
}

/// Reads the topology of `online` CPUs. Cluster ids are read only when `clusters` is set
/// (ARM, hybrid x86: elsewhere a cluster is just the core or the L2 domain, two reads per core
/// that say nothing new).
pub fn detect(
    root: &FsRoot,
    online: &[u32],
    cpuinfo: &CpuInfo,
    clusters: bool,
    problems: &mut Problems,
) -> Topology {
    let mut packages = Grouper::new(
        root,
        &["package_cpus_list", "core_siblings_list", "package_cpus", "core_siblings"],
        "physical_package_id",
    );
    let mut cluster_ids = Grouper::new(root, &["cluster_cpus_list", "cluster_cpus"], "cluster_id");
    cluster_ids.absent = !clusters;
    let by_cpuinfo = cpuinfo_cores(cpuinfo);
    let mut places: BTreeMap<u32, Place> = BTreeMap::new();
    let mut cores = 0usize;
    let mut missing = Vec::new();
    for &cpu in online {
        if places.contains_key(&cpu) {
            continue;
        }
        let dir = format!("/sys/devices/system/cpu/cpu{cpu}/topology");
        let lines = cpuinfo.processor(cpu);
        let sysfs_siblings = read_list(
            root,
            &dir,
            &["core_cpus_list", "thread_siblings_list", "core_cpus", "thread_siblings"],
        );
        let (package, core, mut siblings) = match sysfs_siblings {
            Some(siblings) => {
                let core = read_id(root, &format!("{dir}/core_id")).ok().flatten();
                (packages.group(cpu), core, siblings)
            }
            None => {
                missing.push(cpu);
                let package = lines.and_then(|l| l.package);
                let core = lines.and_then(|l| l.core);
                let siblings = match (package, core) {
                    (Some(p), Some(c)) => by_cpuinfo.get(&(p, c)).cloned().unwrap_or_default(),
                    _ => Vec::new(),
                };
                let group = match package {
                    Some(p) => Some((Some(p), packages.index_of(p))),
                    None => packages.group(cpu),
                };
                (group, core, siblings)
            }
        };
        let (package, package_index) = (package.and_then(|g| g.0), package.map(|g| g.1));
        siblings.retain(|s| online.binary_search(s).is_ok() && !places.contains_key(s));
        if !siblings.contains(&cpu) {
            siblings.push(cpu);
            siblings.sort_unstable();
        }
        let cluster = cluster_ids.id(cpu);
        let text = cpulist::format_list(&siblings);
        for s in siblings {
            places.insert(
                s,
                Place { package, core, cluster, siblings: text.clone(), core_index: cores, package_index },
            );
        }
        cores += 1;
    }
    if !missing.is_empty() {
        problems.push(Error::Unavailable(format!(
            "no sysfs topology for CPU {} (ids taken from /proc/cpuinfo where present)",
            cpulist::format_list(&missing)
        )));
    }
    let mut per_core = vec![0u32; cores];
    for p in places.values() {
        per_core[p.core_index] += 1;
    }
    let mut package_ids: Vec<Option<usize>> = places.values().map(|p| p.package_index).collect();
    package_ids.sort_unstable();
    package_ids.dedup();
    Topology {
        cores: cores as u32,
        packages: package_ids.len() as u32,
        threads_per_core: per_core.into_iter().max().unwrap_or(0),
        places,
    }
}

/// CPUs grouped by cpuinfo (physical id, core id).
fn cpuinfo_cores(cpuinfo: &CpuInfo) -> HashMap<(u32, u32), Vec<u32>> {
    let mut map: HashMap<(u32, u32), Vec<u32>> = HashMap::new();
    for p in &cpuinfo.processors {
        if let (Some(pkg), Some(core)) = (p.package, p.core) {
            map.entry((pkg, core)).or_default().push(p.id);
        }
    }
    map
}

/// Reads an id attribute; -1 (the kernel's "unknown") becomes `None`.
fn read_id(root: &FsRoot, path: &str) -> Result<Option<u32>, Error> {
    let v: i64 = root.read_parsed(path)?;
    Ok(u32::try_from(v).ok())
}

/// The first of `names` in `dir` that exists, parsed; `None` when none exists or it is empty
/// or unreadable.
fn read_list(root: &FsRoot, dir: &str, names: &[&str]) -> Option<Vec<u32>> {
    read_cpus(root, dir, names).and_then(Result::ok).filter(|l| !l.is_empty())
}
