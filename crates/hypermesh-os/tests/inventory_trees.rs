//! Hand-made trees: a 2-socket SMT server, a hybrid P/E-core laptop and an ARM big.LITTLE board,
//! with offline CPUs and a CPU-less NUMA node; and broken files that must give errors, not panics.

#![cfg(native_linux)]

mod common;

use common::{profile, tree};

use hypermesh_os::linux::LinuxBackend;
use hypermesh_os::{FsRoot, Section, detect};
use hypermesh_testkit::synthetic::Machine;

#[test]
fn two_socket_smt_with_offline_cpu_and_memory_only_node() {
    let (_d, t) = tree();
    let mut m = Machine::x86(2, 4, 2).offline(15);
    m.nodes.push((2, 64 << 20));
    m.write(&t).unwrap();
    let p = profile(&t);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let cpu = p.cpu.unwrap();
    assert_eq!(cpu.logical_cpus, 15);
    assert_eq!(cpu.offline, vec![15]);
    assert_eq!(cpu.present.len(), 16);
    assert_eq!(cpu.packages, 2);
    assert_eq!(cpu.cores, 8, "CPU 15's core still has CPU 7 online");
    assert_eq!(cpu.threads_per_core, 2);
    let l3 = cpu.caches.iter().find(|c| c.level == 3).unwrap();
    assert_eq!(l3.instances, 2);
    assert_eq!(l3.size_bytes, Some(32 << 20));
    let l1d = cpu.caches.iter().find(|c| c.level == 1 && c.kind == "data").unwrap();
    assert_eq!(l1d.instances, 8);
    assert_eq!(cpu.kinds.len(), 1);
    assert_eq!(cpu.kinds[0].name, "uniform");
    assert_eq!(cpu.kinds[0].cores, 8);
    let c8 = cpu.logical.iter().find(|l| l.id == 8).unwrap();
    assert_eq!((c8.package, c8.core, c8.core_siblings.as_deref()), (Some(0), Some(0), Some("0,8")));
    assert_eq!(c8.numa_node, Some(0));
    assert!(!cpu.logical.iter().find(|l| l.id == 15).unwrap().online);
    let numa = p.numa.unwrap();
    assert_eq!(numa.nodes.len(), 3);
    assert!(numa.nodes[2].cpus.is_empty());
    assert_eq!(numa.nodes[2].memory_total_bytes, Some(64 << 30));
    assert_eq!(numa.nodes[0].distances, [(0, 10), (1, 21), (2, 21)].into());
    assert_eq!(numa.nodes[1].cpus, vec![4, 5, 6, 7, 12, 13, 14]);
}

#[test]
fn hybrid_p_and_e_cores() {
    let (_d, t) = tree();
    // 2 P-cores with SMT (CPUs 0-3) and 4 E-cores (CPUs 4-7) in one package, E-core 7 offline.
    let mut m = Machine::x86(1, 6, 1);
    m.cpus.truncate(4);
    for (i, c) in m.cpus.iter_mut().enumerate() {
        c.core = i as u32 / 2;
        c.max_khz = Some(4_800_000);
    }
    for id in 4..8 {
        let mut c = m.cpus[0].clone();
        c.id = id;
        c.core = id + 4;
        c.max_khz = Some(3_600_000);
        m.cpus.push(c);
    }
    m.hybrid = Some((vec![0, 1, 2, 3], vec![4, 5, 6, 7]));
    let m = m.offline(7);
    m.write(&t).unwrap();
    let cpu = profile(&t).cpu.unwrap();
    assert_eq!(cpu.cores, 5);
    assert_eq!(cpu.threads_per_core, 2);
    assert_eq!(cpu.kinds.len(), 2);
    let (p, e) = (&cpu.kinds[0], &cpu.kinds[1]);
    assert_eq!((p.name.as_str(), p.cpus.clone(), p.cores), ("performance", vec![0, 1, 2, 3], 2));
    assert_eq!((e.name.as_str(), e.cpus.clone(), e.cores), ("efficiency", vec![4, 5, 6], 3));
    assert_eq!(p.basis.as_deref(), Some("intel_hybrid pmu"));
    assert_eq!(p.max_frequency_khz, Some(4_800_000));
    assert_eq!(e.max_frequency_khz, Some(3_600_000));
    assert_eq!(cpu.frequency.unwrap().max_khz, Some(4_800_000));
}

#[test]
fn arm_big_little_with_unknown_package() {
    let (_d, t) = tree();
    let mut m = Machine::x86(1, 8, 1);
    for c in &mut m.cpus {
        let big = c.id >= 4;
        c.package = -1;
        c.cluster = u32::from(big);
        c.arm_part = Some(if big { 0xd0b } else { 0xd05 });
        c.capacity = Some(if big { 1024 } else { 446 });
        c.max_khz = Some(if big { 2_400_000 } else { 1_800_000 });
    }
    let m = m.offline(3);
    m.write(&t).unwrap();
    let cpu = profile(&t).cpu.unwrap();
    assert_eq!(cpu.vendor.as_deref(), Some("ARM"));
    assert_eq!(cpu.packages, 1, "package -1 everywhere is one unknown package");
    assert_eq!(cpu.cores, 7);
    assert!(cpu.logical.iter().all(|l| l.package.is_none()));
    assert_eq!(cpu.logical[5].cluster, Some(1));
    assert_eq!(cpu.logical[5].capacity, Some(1024));
    let names: Vec<_> =
        cpu.kinds.iter().map(|k| (k.name.as_str(), k.model.as_deref(), k.cpus.clone())).collect();
    assert_eq!(
        names,
        vec![
            ("performance", Some("Cortex-A76"), vec![4, 5, 6, 7]),
            ("efficiency", Some("Cortex-A55"), vec![0, 1, 2]),
        ]
    );
    assert_eq!(cpu.kinds[0].basis.as_deref(), Some("cpu part"));
    assert!(cpu.flags.contains(&"asimd".to_string()));
}

#[test]
fn max_frequency_splits_kinds_only_beyond_turbo_bins() {
    let (_d, t) = tree();
    let mut m = Machine::x86(1, 4, 1);
    m.cpus[0].max_khz = Some(3_100_000); // a favoured core: same kind
    m.cpus[3].max_khz = Some(2_000_000);
    m.write(&t).unwrap();
    let cpu = profile(&t).cpu.unwrap();
    let kinds: Vec<_> = cpu.kinds.iter().map(|k| (k.name.as_str(), k.cpus.clone())).collect();
    assert_eq!(kinds, vec![("performance", vec![0, 1, 2]), ("efficiency", vec![3])]);
}

#[test]
fn broken_files_give_errors_not_panics() {
    let (_d, t) = tree();
    Machine::x86(1, 2, 1).write(&t).unwrap();
    let sys = "/sys/devices/system/cpu";
    t.file(&format!("{sys}/online"), "garbage\n").unwrap();
    t.file(&format!("{sys}/cpu1/cache/index2/size"), "lots\n").unwrap();
    t.file(&format!("{sys}/cpu0/topology/core_cpus_list"), "").unwrap();
    t.file(&format!("{sys}/cpu0/topology/thread_siblings_list"), "").unwrap();
    t.file("/proc/cpuinfo", "processor\t: 0\nvendor_id\t: Genu").unwrap();
    t.file("/proc/meminfo", "MemTotal: 10").unwrap();
    t.file("/sys/devices/system/node/node0/distance", "10 x\n").unwrap();
    std::fs::remove_file(t.path().join("sys/devices/system/node/node1/meminfo")).unwrap_or(());
    std::fs::remove_file(t.path().join("sys/devices/system/node/node0/meminfo")).unwrap();
    let p = profile(&t);
    let cpu = p.cpu.as_ref().unwrap();
    assert_eq!(cpu.online, vec![0], "online falls back to the CPUs cpuinfo lists");
    assert_eq!(cpu.cores, 1);
    let messages: Vec<String> = p.errors.iter().map(|e| e.to_string()).collect();
    assert!(messages.iter().any(|m| m.contains("cpu/online")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("node0/meminfo")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("node0/distance")), "{messages:?}");
    assert_eq!(p.memory.as_ref().unwrap().total_bytes, 10, "MemTotal without unit is taken as given");
    assert_eq!(p.memory.as_ref().unwrap().available_bytes, None);
    assert!(p.memory.as_ref().unwrap().available_note.is_some());

    t.file("/proc/meminfo", "").unwrap();
    std::fs::remove_file(t.path().join("proc/cpuinfo")).unwrap();
    std::fs::remove_file(t.path().join("sys/devices/system/cpu/online")).unwrap();
    std::fs::remove_dir_all(t.path().join("sys/devices/system/cpu")).unwrap();
    std::fs::remove_dir_all(t.path().join("sys/devices/system/node")).unwrap();
    let p = profile(&t);
    assert!(p.cpu.is_none() && p.memory.is_none() && p.numa.is_none());
    let sections: Vec<Section> = p.errors.iter().map(|e| e.section).collect();
    for s in [Section::Cpu, Section::Numa, Section::Memory] {
        assert!(sections.contains(&s), "{:?}", p.errors);
    }
}

#[test]
fn empty_tree_fails_every_section_cleanly() {
    let (_d, t) = tree();
    let p = detect(&LinuxBackend::new(FsRoot::new(t.path()).unwrap()), &[]);
    assert!(p.cpu.is_none() && p.memory.is_none() && p.numa.is_none());
    let platform = p.platform.unwrap();
    assert_eq!(platform.arch, None, "no cpuinfo under an alternate root: arch unknown");
    assert_eq!(platform.kernel, None);
}
