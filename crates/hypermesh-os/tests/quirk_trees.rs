//! Kernel quirks seen on machines in the wild, one hand-made tree each (issue 18): lists ending
//! in `"\n\0"`, map-only caches, nodes and topology, `physical_package_id` -1, hybrid and
//! Grace-like caches of different sizes, cpufreq without policy directories, NUMA nodes listing
//! CPUs that do not exist, and disks listed only in `/sys/class/block`.

#![cfg(native_linux)]

mod common;

use common::{profile, tree};

use hypermesh_os::FsRoot;
use hypermesh_os::cpulist::format_list;
use hypermesh_os::linux::storage::block;
use hypermesh_os::model::Cache;
use hypermesh_testkit::synthetic::{CpuSpec, Machine};
use std::path::Path;

const CPU: &str = "/sys/devices/system/cpu";
const NODE: &str = "/sys/devices/system/node";

/// Every file under `dir` (recursively, links not followed).
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            out.extend(files(&entry.path()));
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
    out
}

/// A CPU mask as the kernel writes it: 32-bit words, most significant first.
fn mask(cpus: &[u32], words: usize) -> String {
    let mut w = vec![0u32; words];
    for &c in cpus {
        w[c as usize / 32] |= 1 << (c % 32);
    }
    w.iter().rev().map(|x| format!("{x:08x}")).collect::<Vec<_>>().join(",") + "\n"
}

/// Replaces each file named `list` under `dir` by its hex-mask twin `map`.
fn lists_to_masks(dir: &Path, list: &str, map: &str, words: usize) {
    for f in files(dir).into_iter().filter(|f| f.file_name().unwrap() == list) {
        let cpus = hypermesh_os::cpulist::parse_list(&std::fs::read_to_string(&f).unwrap()).unwrap();
        std::fs::write(f.with_file_name(map), mask(&cpus, words)).unwrap();
        std::fs::remove_file(f).unwrap();
    }
}

/// (level, type, size, instances, CPUs, one list per instance) of a cache group.
type Group<'a> = (u32, &'a str, Option<u64>, u32, String, Vec<&'a str>);

/// Every cache group, as [`Group`]s.
fn groups(caches: &[Cache]) -> Vec<Group<'_>> {
    caches
        .iter()
        .map(|c| {
            let lists = c.shared_cpu_lists.iter().map(String::as_str).collect();
            (c.level, c.kind.as_str(), c.size_bytes, c.instances, format_list(&c.cpus), lists)
        })
        .collect()
}

#[test]
fn lists_ending_in_newline_nul_parse_everywhere() {
    let (_d, t) = tree();
    Machine::x86(2, 4, 2).offline(15).write(&t).unwrap();
    for f in files(t.path()) {
        let name = f.file_name().unwrap().to_str().unwrap();
        if name.ends_with("_list")
            || ["cpulist", "online", "present", "possible", "offline", "related_cpus"].contains(&name)
        {
            let mut text = std::fs::read(&f).unwrap();
            text.push(0);
            std::fs::write(&f, text).unwrap();
        }
    }
    let p = profile(&t);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let cpu = p.cpu.unwrap();
    assert_eq!(cpu.online, (0..15).collect::<Vec<_>>());
    assert_eq!(cpu.offline, vec![15]);
    assert_eq!((cpu.packages, cpu.cores, cpu.threads_per_core), (2, 8, 2));
    let l1d = &cpu.caches[0];
    assert_eq!((l1d.level, l1d.instances, l1d.shared_cpu_lists[0].as_str()), (1, 8, "0,8"));
    assert_eq!(cpu.logical[7].core_siblings.as_deref(), Some("7"), "CPU 15 is offline");
    let numa = p.numa.unwrap();
    assert_eq!(numa.nodes.iter().map(|n| n.id).collect::<Vec<_>>(), vec![0, 1]);
    assert_eq!(numa.nodes[0].cpus, vec![0, 1, 2, 3, 8, 9, 10, 11]);
    assert_eq!(numa.nodes[1].cpus, vec![4, 5, 6, 7, 12, 13, 14]);
    assert_eq!(cpu.logical[12].numa_node, Some(1));
}

/// 48 CPUs (two mask words) with only `shared_cpu_map`, `cpumap` and the topology masks.
#[test]
fn map_only_caches_nodes_and_topology_fall_back_to_masks() {
    let (_d, t) = tree();
    Machine::x86(2, 12, 2).write(&t).unwrap();
    for (list, map) in [
        ("shared_cpu_list", "shared_cpu_map"),
        ("cpulist", "cpumap"),
        ("thread_siblings_list", "thread_siblings"),
        ("core_siblings_list", "core_siblings"),
    ] {
        lists_to_masks(t.path(), list, map, 2);
    }
    for f in files(t.path()) {
        let name = f.file_name().unwrap();
        if ["core_cpus_list", "package_cpus_list", "cluster_cpus_list"].iter().any(|n| name == *n) {
            std::fs::remove_file(f).unwrap();
        }
    }
    let node1 = std::fs::read_to_string(t.path().join("sys/devices/system/node/node1/cpumap")).unwrap();
    assert_eq!(node1, "0000fff0,00fff000\n", "CPUs 12-23 and 36-47, as the kernel writes them");
    let p = profile(&t);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let cpu = p.cpu.unwrap();
    assert_eq!((cpu.packages, cpu.cores, cpu.threads_per_core, cpu.logical_cpus), (2, 24, 2, 48));
    assert_eq!(cpu.logical[30].core_siblings.as_deref(), Some("6,30"));
    let g = groups(&cpu.caches);
    let l1d_lists: Vec<String> = (0..24).map(|c| format!("{c},{}", c + 24)).collect();
    assert_eq!(
        (g[0].0, g[0].1, g[0].3),
        (1, "data", 24),
        "L1d: one per core, not one per CPU plus an empty one"
    );
    assert_eq!(g[0].5, l1d_lists);
    assert_eq!(g[3], (3, "unified", Some(32 << 20), 2, "0-47".into(), vec!["0-11,24-35", "12-23,36-47"]));
    assert_eq!(g.len(), 4);
    let numa = p.numa.unwrap();
    assert_eq!(numa.nodes[1].cpus, (12..24).chain(36..48).collect::<Vec<_>>());
    assert_eq!(cpu.logical[40].numa_node, Some(1));
}

/// POWER and some hypervisors: `physical_package_id` is -1, and (on older kernels) only
/// `core_siblings_list` tells the two packages apart.
#[test]
fn package_id_minus_one_counts_packages_by_sibling_lists() {
    let (_d, t) = tree();
    Machine::x86(2, 4, 1).write(&t).unwrap();
    for c in 0..8 {
        let dir = format!("{CPU}/cpu{c}/topology");
        t.file(&format!("{dir}/physical_package_id"), "-1\n").unwrap();
        std::fs::remove_file(t.path().join(&dir[1..]).join("package_cpus_list")).unwrap();
    }
    let cpu = profile(&t).cpu.unwrap();
    assert_eq!(cpu.packages, 2);
    assert_eq!(cpu.cores, 8);
    assert!(cpu.logical.iter().all(|l| l.package.is_none()), "the id stays unknown");
}

/// Intel hybrid (Alder Lake-like): 2 P cores with SMT (48K L1d, 32K L1i, 1.25M L2 each) and
/// 8 E cores (32K L1d, 64K L1i each; one 2M L2 per 4 cores), one 30M L3.
#[test]
fn hybrid_intel_caches_are_groups_of_equal_size() {
    let (_d, t) = tree();
    let mut m = Machine::x86(1, 1, 1);
    let base = m.cpus[0].clone();
    m.cpus = (0..12)
        .map(|id| CpuSpec { id, core: if id < 4 { id / 2 } else { id + 4 }, cluster: id / 4, ..base.clone() })
        .collect();
    m.hybrid = Some(((0..4).collect(), (4..12).collect()));
    m.write(&t).unwrap();
    for c in 0..12u32 {
        let dir = format!("{CPU}/cpu{c}/cache");
        let (l1d, l1i, l2, l2_shared) = if c < 4 {
            ("48K", "32K", "1280K", format_list(&[c & !1, c | 1]))
        } else {
            ("32K", "64K", "2048K", format_list(&(c & !3..(c & !3) + 4).collect::<Vec<_>>()))
        };
        t.file(&format!("{dir}/index0/size"), format!("{l1d}\n")).unwrap();
        t.file(&format!("{dir}/index1/size"), format!("{l1i}\n")).unwrap();
        t.file(&format!("{dir}/index2/size"), format!("{l2}\n")).unwrap();
        t.file(&format!("{dir}/index2/shared_cpu_list"), format!("{l2_shared}\n")).unwrap();
        t.file(&format!("{dir}/index3/size"), "30720K\n").unwrap();
    }
    let cpu = profile(&t).cpu.unwrap();
    let e_cores: Vec<String> = (4..12).map(|c| c.to_string()).collect();
    let e_cores: Vec<&str> = e_cores.iter().map(String::as_str).collect();
    assert_eq!(
        groups(&cpu.caches),
        vec![
            (1, "data", Some(48 << 10), 2, "0-3".into(), vec!["0-1", "2-3"]),
            (1, "data", Some(32 << 10), 8, "4-11".into(), e_cores.clone()),
            (1, "instruction", Some(32 << 10), 2, "0-3".into(), vec!["0-1", "2-3"]),
            (1, "instruction", Some(64 << 10), 8, "4-11".into(), e_cores),
            (2, "unified", Some(1280 << 10), 2, "0-3".into(), vec!["0-1", "2-3"]),
            (2, "unified", Some(2 << 20), 2, "4-11".into(), vec!["4-7", "8-11"]),
            (3, "unified", Some(30 << 20), 1, "0-11".into(), vec!["0-11"]),
        ]
    );
    assert_eq!(cpu.caches[0].ways, Some(12));
    assert_eq!(cpu.caches[0].line_size_bytes, Some(64));
}

/// Grace-like: two packages whose L3s differ (8M and 16M).
#[test]
fn two_l3_sizes_are_two_groups() {
    let (_d, t) = tree();
    Machine::x86(2, 4, 1).write(&t).unwrap();
    for c in 4..8 {
        t.file(&format!("{CPU}/cpu{c}/cache/index3/size"), "16384K\n").unwrap();
    }
    for c in 0..4 {
        t.file(&format!("{CPU}/cpu{c}/cache/index3/size"), "8192K\n").unwrap();
    }
    let cpu = profile(&t).cpu.unwrap();
    let l3: Vec<_> = groups(&cpu.caches).into_iter().filter(|g| g.0 == 3).collect();
    assert_eq!(
        l3,
        vec![
            (3, "unified", Some(8 << 20), 1, "0-3".into(), vec!["0-3"]),
            (3, "unified", Some(16 << 20), 1, "4-7".into(), vec!["4-7"]),
        ]
    );
}

/// Kernels before 4.3: `cpufreq/` holds a governor directory and no `policyN`; the limits are
/// in each `cpuN/cpufreq`.
#[test]
fn cpufreq_without_policies_reads_each_cpu() {
    let (_d, t) = tree();
    let mut m = Machine::x86(1, 2, 1);
    m.cpus.iter_mut().for_each(|c| c.max_khz = None);
    m.write(&t).unwrap();
    t.dir(&format!("{CPU}/cpufreq/ondemand")).unwrap();
    for (c, max) in [(0, 3_400_000), (1, 3_600_000)] {
        let dir = format!("{CPU}/cpu{c}/cpufreq");
        t.file(&format!("{dir}/cpuinfo_min_freq"), "800000\n").unwrap();
        t.file(&format!("{dir}/cpuinfo_max_freq"), format!("{max}\n")).unwrap();
        t.file(&format!("{dir}/base_frequency"), "2100000\n").unwrap();
        t.file(&format!("{dir}/scaling_cur_freq"), "1200000\n").unwrap();
    }
    let cpu = profile(&t).cpu.unwrap();
    let f = cpu.frequency.unwrap();
    assert_eq!((f.min_khz, f.max_khz, f.base_khz), (Some(800_000), Some(3_600_000), Some(2_100_000)));
    assert_eq!(cpu.logical[0].max_khz, Some(3_400_000));
    assert_eq!(cpu.logical[1].current_khz, Some(1_200_000));
}

/// A node listing CPUs that do not exist (8-11) and an offline one (7); node ids 0 and 2.
#[test]
fn numa_nodes_keep_existing_cpus_mark_offline_ones_and_key_distances_by_id() {
    let (_d, t) = tree();
    let mut m = Machine::x86(2, 4, 1).offline(7);
    m.cpus.iter_mut().filter(|c| c.node == 1).for_each(|c| c.node = 2);
    m.nodes = vec![(0, 8 << 20), (2, 8 << 20)];
    m.write(&t).unwrap();
    t.file(&format!("{NODE}/node2/cpulist"), "4-11\n").unwrap();
    t.file(&format!("{NODE}/node0/distance"), "10 32\n").unwrap();
    let p = profile(&t);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let numa = p.numa.unwrap();
    let node2 = &numa.nodes[1];
    assert_eq!((node2.id, node2.cpus.clone(), node2.offline_cpus.clone()), (2, vec![4, 5, 6, 7], vec![7]));
    assert!(numa.nodes[0].offline_cpus.is_empty());
    assert_eq!(numa.nodes[0].distances, [(0, 10), (2, 32)].into());
    assert_eq!(node2.distances, [(0, 21), (2, 10)].into());
    let json = serde_json::to_value(&numa.nodes[0]).unwrap();
    assert_eq!(json["distances"], serde_json::json!({"0": 10, "2": 32}));
}

/// An older kernel: the NVMe namespace and the pmem device only in `/sys/class/block` (beside
/// their partitions), the virtio disk in both.
#[test]
fn class_block_adds_disks_but_no_partitions_and_no_duplicates() {
    let (_d, t) = tree();
    t.virtio_disks(1).unwrap();
    let ns = "/sys/devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1";
    let pmem = "/sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0012:00/ndbus0/region0/namespace0.0/block/pmem0";
    for (dev, sectors) in [(ns, "1953525168"), (pmem, "33554432")] {
        t.file(&format!("{dev}/size"), format!("{sectors}\n")).unwrap();
        t.file(&format!("{dev}/queue/rotational"), "0\n").unwrap();
    }
    t.file(&format!("{ns}/nvme0n1p1/start"), "2048\n").unwrap();
    t.file(&format!("{ns}/nvme0n1p1/size"), "1048576\n").unwrap();
    t.file(&format!("{ns}/nvme0n1p1/partition"), "1\n").unwrap();
    let vd0 = "/devices/pci0000:00/0000:00:00.0/virtio0/block/vd0";
    for (name, target) in [
        ("vd0", vd0.to_string()),
        ("vd0p1", format!("{vd0}/vd0p1")),
        ("nvme0n1", ns[4..].to_string()),
        ("nvme0n1p1", format!("{}/nvme0n1p1", &ns[4..])),
        ("pmem0", pmem[4..].to_string()),
    ] {
        t.link(&format!("/sys/class/block/{name}"), &format!("../..{target}")).unwrap();
    }
    let root = FsRoot::new(t.path()).unwrap();
    let mut problems = Vec::new();
    let disks = block::detect(&root, &[], &mut problems).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let names: Vec<(&str, Option<u64>, Vec<&str>)> = disks
        .iter()
        .map(|d| (d.name.as_str(), d.size_bytes, d.partitions.iter().map(|p| p.name.as_str()).collect()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("nvme0n1", Some(1_953_525_168 * 512), vec!["nvme0n1p1"]),
            ("pmem0", Some(16 << 30), vec![]),
            ("vd0", Some(1 << 30), vec!["vd0p1"]),
        ]
    );
    assert_eq!(disks[0].kind, hypermesh_os::model::DiskKind::Nvme);
}
