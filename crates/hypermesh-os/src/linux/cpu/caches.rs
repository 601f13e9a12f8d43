//! CPU caches from `cpuN/cache/index*`, as groups of equal (level, type, size): hybrid Intel
//! (P and E cores), ARM big.LITTLE and Grace-like machines have caches of different sizes on
//! different cores, so nothing is taken from CPU 0 alone.
//!
//! For each index of the first online CPU, the online CPUs are walked in order and only those
//! not yet covered by an instance of that index are read (level, type, size and the shared CPU
//! set): one read set per cache instance, not per CPU. The shared set comes from
//! `shared_cpu_list`, or from the `shared_cpu_map` mask where the list is missing (older
//! kernels, POWER). An instance seen under two index numbers (on CPUs that number their caches
//! differently) is counted once. Line size and associativity are read once per group.
//!
//! Where the kernel reports two cores as sharing an L1i or L2 (AMD Bulldozer compute units),
//! the cache is reported as the kernel describes it.

use super::read_cpus;
use crate::cpulist;
use crate::error::{Error, Result};
use crate::model::Cache;
use crate::profile::Problems;
use crate::root::FsRoot;
use std::collections::{BTreeMap, HashSet};

const CPU_DIR: &str = "/sys/devices/system/cpu";

/// One cache instance: what it is and which CPUs share it.
struct Instance {
    level: u32,
    kind: String,
    size_bytes: Option<u64>,
    cpus: Vec<u32>,
    /// Directory it was read from (one CPU's `cache/indexN`).
    dir: String,
}

/// Reads the cache groups seen by the `online` CPUs (sorted), ordered by level, type and first
/// CPU.
pub fn detect(root: &FsRoot, online: &[u32], problems: &mut Problems) -> Vec<Cache> {
    let Some(&first) = online.first() else { return Vec::new() };
    let indexes = match root.read_dir(&format!("{CPU_DIR}/cpu{first}/cache")) {
        Ok(names) => names.into_iter().filter(|n| n.starts_with("index")).collect::<Vec<_>>(),
        Err(e) => {
            if !e.is_not_found() {
                problems.push(e);
            }
            return Vec::new();
        }
    };
    let mut instances: Vec<Instance> = Vec::new();
    let mut seen: HashSet<(u32, String, Vec<u32>)> = HashSet::new();
    for index in &indexes {
        let mut covered: HashSet<u32> = HashSet::with_capacity(online.len());
        for &cpu in online {
            if !covered.insert(cpu) {
                continue;
            }
            match read_instance(root, &format!("{CPU_DIR}/cpu{cpu}/cache/{index}"), cpu) {
                Ok(Some(instance)) => {
                    covered.extend(instance.cpus.iter().copied());
                    if seen.insert((instance.level, instance.kind.clone(), instance.cpus.clone())) {
                        instances.push(instance);
                    }
                }
                Ok(None) => {}
                Err(e) => problems.push(e),
            }
        }
    }
    group(root, instances)
}

/// Reads one CPU's cache index; `None` when that CPU has no such index.
fn read_instance(root: &FsRoot, dir: &str, cpu: u32) -> Result<Option<Instance>> {
    let level = match root.read_parsed(&format!("{dir}/level")) {
        Ok(l) => l,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    let kind = root.read_trimmed(&format!("{dir}/type"))?.to_ascii_lowercase();
    let size_path = format!("{dir}/size");
    let size_bytes = match root.read_opt(&size_path) {
        Some(text) => {
            Some(parse_size(&text).ok_or_else(|| Error::parse(&size_path, format!("bad size {text:?}")))?)
        }
        None => None,
    };
    let mut cpus =
        read_cpus(root, dir, &["shared_cpu_list", "shared_cpu_map"]).transpose()?.unwrap_or_default();
    if let Err(at) = cpus.binary_search(&cpu) {
        cpus.insert(at, cpu);
    }
    Ok(Some(Instance { level, kind, size_bytes, cpus, dir: dir.to_string() }))
}

/// Gathers instances into groups of equal (level, type, size).
fn group(root: &FsRoot, instances: Vec<Instance>) -> Vec<Cache> {
    let mut groups: BTreeMap<(u32, String, Option<u64>), Vec<Instance>> = BTreeMap::new();
    for i in instances {
        groups.entry((i.level, i.kind.clone(), i.size_bytes)).or_default().push(i);
    }
    let mut caches: Vec<Cache> = groups
        .into_iter()
        .map(|((level, kind, size_bytes), mut members)| {
            members.sort_by_key(|m| m.cpus.first().copied());
            let dir = &members[0].dir;
            let mut cpus: Vec<u32> = members.iter().flat_map(|m| m.cpus.iter().copied()).collect();
            cpus.sort_unstable();
            cpus.dedup();
            Cache {
                level,
                kind,
                size_bytes,
                instances: members.len() as u32,
                line_size_bytes: root.read_opt_parsed(&format!("{dir}/coherency_line_size")),
                ways: root.read_opt_parsed(&format!("{dir}/ways_of_associativity")),
                shared_cpu_lists: members.iter().map(|m| cpulist::format_list(&m.cpus)).collect(),
                cpus,
            }
        })
        .collect();
    caches.sort_by(|a, b| (a.level, &a.kind, a.cpus.first()).cmp(&(b.level, &b.kind, b.cpus.first())));
    caches
}

/// Parses sysfs cache sizes: `32K`, `1024K`, `36608K`, `2M`, or plain bytes.
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let (digits, mult) = match t.char_indices().last()? {
        (i, 'K') | (i, 'k') => (&t[..i], 1u64 << 10),
        (i, 'M') => (&t[..i], 1 << 20),
        (i, 'G') => (&t[..i], 1 << 30),
        _ => (t, 1),
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("32K"), Some(32 << 10));
        assert_eq!(parse_size("2M\n"), Some(2 << 20));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size(""), None);
        assert_eq!(parse_size("K"), None);
        assert_eq!(parse_size("x1K"), None);
        assert_eq!(parse_size("99999999999999999999G"), None);
    }
}
