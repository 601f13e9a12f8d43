//! CPU caches from `cpuN/cache/index*`: attributes read once from the first online CPU, then
//! only the `shared_cpu_list` of CPUs not yet covered, which gives the distinct instances.

use crate::cpulist;
use crate::error::Error;
use crate::model::Cache;
use crate::profile::Problems;
use crate::root::FsRoot;
use std::collections::HashSet;

/// Reads the cache hierarchy seen by the `online` CPUs (sorted).
pub fn detect(root: &FsRoot, online: &[u32], problems: &mut Problems) -> Vec<Cache> {
    let Some(&first) = online.first() else { return Vec::new() };
    let dir = format!("/sys/devices/system/cpu/cpu{first}/cache");
    let indexes = match root.read_dir(&dir) {
        Ok(names) => names.into_iter().filter(|n| n.starts_with("index")).collect::<Vec<_>>(),
        Err(e) => {
            if !e.is_not_found() {
                problems.push(e);
            }
            return Vec::new();
        }
    };
    let mut caches = Vec::new();
    for index in indexes {
        match read_index(root, &format!("{dir}/{index}")) {
            Ok(mut cache) => {
                let (instances, lists) = instances(root, online, &index, &cache.shared_cpu_lists[0]);
                cache.instances = instances;
                cache.shared_cpu_lists = lists;
                caches.push(cache);
            }
            Err(e) => problems.push(e),
        }
    }
    caches.sort_by(|a, b| (a.level, &a.kind).cmp(&(b.level, &b.kind)));
    caches
}

fn read_index(root: &FsRoot, dir: &str) -> Result<Cache, Error> {
    let level = root.read_parsed(&format!("{dir}/level"))?;
    let kind = root.read_trimmed(&format!("{dir}/type"))?.to_ascii_lowercase();
    let size_path = format!("{dir}/size");
    let size_bytes = match root.read_opt(&size_path) {
        Some(text) => {
            Some(parse_size(&text).ok_or_else(|| Error::parse(&size_path, format!("bad size {text:?}")))?)
        }
        None => None,
    };
    let shared = root.read_opt(&format!("{dir}/shared_cpu_list")).unwrap_or_default();
    Ok(Cache {
        level,
        kind,
        size_bytes,
        instances: 0,
        line_size_bytes: root.read_opt_parsed(&format!("{dir}/coherency_line_size")),
        ways: root.read_opt_parsed(&format!("{dir}/ways_of_associativity")),
        shared_cpu_lists: vec![shared],
    })
}

/// Counts distinct instances of one cache index over the online CPUs, reading the shared list
/// of each CPU not covered by an instance already seen.
fn instances(root: &FsRoot, online: &[u32], index: &str, first_list: &str) -> (u32, Vec<String>) {
    let mut covered: HashSet<u32> = HashSet::with_capacity(online.len());
    let mut lists = Vec::new();
    let mut next = Some(first_list.to_string());
    let mut pending = online.iter();
    loop {
        if let Some(text) = next.take() {
            if let Ok(cpus) = cpulist::parse_list(&text) {
                covered.extend(cpus);
            }
            lists.push(text);
        }
        let Some(&cpu) = pending.by_ref().find(|c| !covered.contains(c)) else { break };
        covered.insert(cpu);
        let path = format!("/sys/devices/system/cpu/cpu{cpu}/cache/{index}/shared_cpu_list");
        next = Some(root.read_opt(&path).unwrap_or_else(|| cpu.to_string()));
    }
    (lists.len() as u32, lists)
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
