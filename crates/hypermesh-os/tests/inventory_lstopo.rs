//! This machine against hwloc's view (`lstopo --disallowed --of xml`, apt package hwloc):
//! packages, cores, PUs, NUMA nodes and their memory, and cache groups of equal (level, type,
//! size) with their instance counts and CPU sets.

#![cfg(native_linux)]

use hypermesh_os::cpulist::{format_list, parse_mask};
use hypermesh_os::linux::LinuxBackend;
use hypermesh_os::{FsRoot, Section, detect};
use hypermesh_testkit::skip;
use std::collections::BTreeMap;
use std::process::Command;

/// One `<object ...>` of the XML: its attributes.
type Object = BTreeMap<String, String>;

/// The attributes of every `<object` element, in document order. hwloc writes one element per
/// line-start tag with `name="value"` attributes and no `>` inside values it escapes.
fn objects(xml: &str) -> Vec<Object> {
    xml.split("<object ")
        .skip(1)
        .map(|rest| {
            let tag = &rest[..rest.find('>').unwrap()];
            let mut attrs = Object::new();
            let mut s = tag;
            while let Some(eq) = s.find("=\"") {
                let key = s[..eq].trim().to_string();
                let after = &s[eq + 2..];
                let end = after.find('"').unwrap();
                attrs.insert(key, after[..end].to_string());
                s = &after[end + 1..];
            }
            attrs
        })
        .collect()
}

/// An hwloc cpuset (`0x00000003`, `0x00000001,0xffffffff`) as CPU numbers.
fn cpuset(text: &str) -> Vec<u32> {
    let words: Vec<&str> = text.split(',').map(|w| w.trim_start_matches("0x")).collect();
    parse_mask(&words.join(",")).unwrap()
}

fn lstopo() -> Option<Vec<Object>> {
    match Command::new("lstopo").args(["--disallowed", "--of", "xml", "-"]).output() {
        Ok(o) if o.status.success() => Some(objects(&String::from_utf8_lossy(&o.stdout))),
        Ok(o) => panic!("lstopo failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            skip(&format!("lstopo not available ({e}; apt install hwloc)"));
            None
        }
    }
}

#[test]
fn topology_numa_and_cache_groups_match_lstopo() {
    let Some(objects) = lstopo() else { return };
    let of = |kind: &'static str| objects.iter().filter(move |o| o["type"] == kind);
    let p = detect(&LinuxBackend::new(FsRoot::host()), &[Section::Cpu, Section::Numa]);
    let cpu = p.cpu.unwrap();
    assert_eq!(cpu.packages as usize, of("Package").count(), "packages");
    assert_eq!(cpu.cores as usize, of("Core").count(), "cores");
    let pus: Vec<u32> = of("PU").map(|o| o["os_index"].parse().unwrap()).collect();
    assert_eq!(cpu.online, pus, "PUs");

    let numa = p.numa.unwrap();
    let nodes: Vec<(u32, Vec<u32>, Option<u64>)> = of("NUMANode")
        .map(|o| {
            (
                o["os_index"].parse().unwrap(),
                cpuset(&o["cpuset"]),
                o.get("local_memory").map(|m| m.parse().unwrap()),
            )
        })
        .collect();
    let ours: Vec<(u32, Vec<u32>, Option<u64>)> =
        numa.nodes.iter().map(|n| (n.id, n.cpus.clone(), n.memory_total_bytes)).collect();
    assert_eq!(ours, nodes, "NUMA nodes: id, CPUs, memory");

    // hwloc: one object per cache instance, `cache_type` 0 unified, 1 data, 2 instruction.
    type Group = (u32, String, u64);
    let mut theirs: BTreeMap<Group, (u32, Vec<u32>)> = BTreeMap::new();
    for o in objects.iter().filter(|o| o.contains_key("cache_size") && o["type"].starts_with('L')) {
        let kind = ["unified", "data", "instruction"][o["cache_type"].parse::<usize>().unwrap()];
        let key = (o["depth"].parse().unwrap(), kind.to_string(), o["cache_size"].parse().unwrap());
        let entry = theirs.entry(key).or_default();
        entry.0 += 1;
        entry.1.extend(cpuset(&o["cpuset"]));
    }
    let theirs: BTreeMap<Group, (u32, String)> = theirs
        .into_iter()
        .map(|(k, (n, mut cpus))| {
            cpus.sort_unstable();
            (k, (n, format_list(&cpus)))
        })
        .collect();
    let ours: BTreeMap<Group, (u32, String)> = cpu
        .caches
        .iter()
        .map(|c| ((c.level, c.kind.clone(), c.size_bytes.unwrap()), (c.instances, format_list(&c.cpus))))
        .collect();
    assert!(!ours.is_empty(), "no caches detected");
    assert_eq!(ours, theirs, "cache groups: (level, type, size) -> (instances, CPUs)");
}
