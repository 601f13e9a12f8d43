//! cpu section: identity from `/proc/cpuinfo`, CPU sets, topology, caches, frequencies and
//! core kinds from sysfs.

pub mod caches;
pub mod cpuinfo;
pub mod frequency;
pub mod kinds;
pub mod topology;

use crate::cpulist;
use crate::error::{Error, Result};
use crate::model::{Cpu, LogicalCpu};
use crate::profile::Problems;
use crate::root::FsRoot;
use cpuinfo::CpuInfo;
use std::collections::HashMap;

const CPU_DIR: &str = "/sys/devices/system/cpu";

/// Detects the cpu section.
pub fn detect(root: &FsRoot, problems: &mut Problems) -> Result<Cpu> {
    let cpuinfo = match root.read_string("/proc/cpuinfo") {
        Ok(text) => CpuInfo::parse(&text),
        Err(e) => {
            problems.push(e);
            CpuInfo::default()
        }
    };
    let sets = CpuSets::read(root, &cpuinfo, problems)?;
    let x86 = cpuinfo.cpu.family.is_some();
    let clusters = !x86 || cpuinfo.has_flag("hybrid_cpu");
    let topology = topology::detect(root, &sets.online, &cpuinfo, clusters, problems);
    let caches = caches::detect(root, &sets.online, problems);
    let policies = frequency::policies(root, &sets.present);
    let mut max_khz = HashMap::new();
    let mut per_cpu_policy = HashMap::new();
    for (i, p) in policies.iter().enumerate() {
        for &c in &p.cpus {
            per_cpu_policy.insert(c, i);
            if let Some(m) = p.max_khz {
                max_khz.insert(c, m);
            }
        }
    }
    let is_arm = cpuinfo.processors.iter().any(|p| p.arm_implementer.is_some());
    let capacity: HashMap<u32, u32> = if is_arm {
        let path = |c: u32| format!("{CPU_DIR}/cpu{c}/cpu_capacity");
        sets.online.iter().filter_map(|&c| Some((c, root.read_opt_parsed(&path(c))?))).collect()
    } else {
        HashMap::new()
    };
    let kinds = kinds::detect(
        root,
        &kinds::Inputs {
            cpuinfo: &cpuinfo,
            online: &sets.online,
            topology: &topology,
            max_khz: &max_khz,
            capacity: &capacity,
        },
    );
    let numa_of = crate::linux::numa::cpu_nodes(root);
    let (allowed, allowed_source) =
        crate::linux::allowed::detect(root, crate::linux::allowed::Resource::Cpus, problems).unzip();
    let logical = sets
        .present
        .iter()
        .map(|&id| {
            let place = topology.places.get(&id);
            let policy = per_cpu_policy.get(&id).map(|&i| &policies[i]);
            LogicalCpu {
                id,
                online: sets.online.binary_search(&id).is_ok(),
                package: place.and_then(|p| p.package),
                core: place.and_then(|p| p.core),
                cluster: place.and_then(|p| p.cluster),
                numa_node: numa_of.get(&id).copied(),
                core_siblings: place.map(|p| p.siblings.clone()),
                current_khz: policy.and_then(|p| p.current_khz),
                min_khz: policy.and_then(|p| p.min_khz),
                max_khz: policy.and_then(|p| p.max_khz),
                capacity: capacity.get(&id).copied(),
                cpuinfo_mhz: cpuinfo.processor(id).and_then(|p| p.mhz),
            }
        })
        .collect();
    Ok(Cpu {
        packages: topology.packages,
        cores: topology.cores,
        logical_cpus: sets.online.len() as u32,
        threads_per_core: topology.threads_per_core,
        offline: sets.present.iter().copied().filter(|c| sets.online.binary_search(c).is_err()).collect(),
        online: sets.online,
        present: sets.present,
        possible: sets.possible,
        isolated: sets.isolated,
        allowed,
        allowed_source,
        caches,
        kinds,
        frequency: frequency::range(&policies),
        logical,
        // The identity read from cpuinfo: vendor, model, family, model_id, stepping,
        // microcode, flags.
        ..cpuinfo.cpu
    })
}

/// The kernel's CPU sets.
struct CpuSets {
    online: Vec<u32>,
    present: Vec<u32>,
    possible: Vec<u32>,
    isolated: Vec<u32>,
}

impl CpuSets {
    /// Reads `online`, `present`, `possible`, `isolated` (and `offline` when `present` or
    /// `online` is missing). Without an `online` file, the CPUs listed in cpuinfo (which shows
    /// online CPUs only) or the `cpuN` directories stand in, minus those `offline` lists.
    fn read(root: &FsRoot, cpuinfo: &CpuInfo, problems: &mut Problems) -> Result<Self> {
        let mut list = |name: &str| -> Option<Vec<u32>> {
            let path = format!("{CPU_DIR}/{name}");
            match root.read_string(&path) {
                Ok(text) => match cpulist::parse_list(&text) {
                    Ok(l) => Some(l),
                    Err(m) => {
                        problems.push(Error::parse(&path, m));
                        None
                    }
                },
                Err(e) if e.is_not_found() => None,
                Err(e) => {
                    problems.push(e);
                    None
                }
            }
        };
        let online_file = list("online").filter(|l| !l.is_empty());
        let present_file = list("present").filter(|l| !l.is_empty());
        let possible_file = list("possible").filter(|l| !l.is_empty());
        let isolated = list("isolated").unwrap_or_default();
        let offline_file = if present_file.is_none() || online_file.is_none() {
            list("offline").unwrap_or_default()
        } else {
            Vec::new()
        };
        let online = match online_file {
            Some(l) => l,
            None => {
                let mut ids: Vec<u32> = cpuinfo.processors.iter().map(|p| p.id).collect();
                if ids.is_empty() {
                    ids = cpu_dirs(root);
                }
                ids.sort_unstable();
                ids.dedup();
                ids.retain(|c| offline_file.binary_search(c).is_err());
                ids
            }
        };
        if online.is_empty() {
            return Err(Error::Unavailable(format!(
                "no online CPU found in {CPU_DIR}/online, /proc/cpuinfo or {CPU_DIR}/cpu*"
            )));
        }
        let present = present_file.unwrap_or_else(|| union(&online, &offline_file));
        let possible = possible_file.unwrap_or_else(|| present.clone());
        Ok(CpuSets { present: union(&present, &online), online, possible, isolated })
    }
}

/// CPUs of the first of `names` in `dir` that exists: names ending in `list` in the list format
/// (`0-3,8`), others as hex masks (`shared_cpu_map`, `cpumap`, `core_siblings`), which older
/// kernels and POWER have without the list twin. Put lists first: a mask is then read only when
/// no list exists. `None` when none of the files exists.
pub fn read_cpus(root: &FsRoot, dir: &str, names: &[&str]) -> Option<Result<Vec<u32>>> {
    for name in names {
        let path = format!("{dir}/{name}");
        let text = match root.read_trimmed(&path) {
            Ok(t) => t,
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Some(Err(e)),
        };
        let parsed =
            if name.ends_with("list") { cpulist::parse_list(&text) } else { cpulist::parse_mask(&text) };
        return Some(parsed.map_err(|m| Error::parse(&path, m)));
    }
    None
}

fn cpu_dirs(root: &FsRoot) -> Vec<u32> {
    root.read_dir(CPU_DIR)
        .unwrap_or_default()
        .iter()
        .filter_map(|n| n.strip_prefix("cpu")?.parse().ok())
        .collect()
}

fn union(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut v: Vec<u32> = a.iter().chain(b).copied().collect();
    v.sort_unstable();
    v.dedup();
    v
}
