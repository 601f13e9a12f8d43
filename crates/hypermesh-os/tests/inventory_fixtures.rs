//! Conformance over the shared fixtures: node_exporter's tree checked against the values in its
//! own golden output `expected/e2e-output.txt` (parsed here, not re-typed), and the procfs
//! fixture's cpuinfo samples of eight architectures.

#![cfg(native_linux)]

use hypermesh_os::linux::LinuxBackend;
use hypermesh_os::linux::cpu::cpuinfo::CpuInfo;
use hypermesh_os::{FsRoot, HostProfile, Section, detect};
use hypermesh_testkit::unpack_fixture;
use std::collections::BTreeMap;
use std::path::Path;

/// Metric lines of a Prometheus text exposition: `name{labels}` → value.
struct Expected(Vec<(String, BTreeMap<String, String>, f64)>);

impl Expected {
    fn load(path: &Path) -> Self {
        let text = std::fs::read_to_string(path).unwrap();
        let mut out = Vec::new();
        for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let Some((series, value)) = line.rsplit_once(' ') else { continue };
            let Ok(value) = value.parse::<f64>() else { continue };
            let (name, labels) = match series.split_once('{') {
                Some((n, rest)) => (n, parse_labels(rest.trim_end_matches('}'))),
                None => (series, BTreeMap::new()),
            };
            out.push((name.to_string(), labels, value));
        }
        Expected(out)
    }

    /// Every sample of a metric.
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (&'a BTreeMap<String, String>, f64)> + 'a {
        self.0.iter().filter(move |(n, _, _)| n == name).map(|(_, l, v)| (l, *v))
    }

    /// The one sample of a metric whose labels include `label=value`.
    fn one(&self, name: &str, label: Option<(&str, &str)>) -> (BTreeMap<String, String>, f64) {
        let found: Vec<_> = self
            .all(name)
            .filter(|(l, _)| label.is_none_or(|(k, v)| l.get(k).map(String::as_str) == Some(v)))
            .collect();
        assert_eq!(found.len(), 1, "{name} {label:?}");
        (found[0].0.clone(), found[0].1)
    }
}

fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while let Some((key, after)) = rest.split_once("=\"") {
        let Some(end) = after.find('"') else { break };
        labels.insert(key.trim_start_matches(',').to_string(), after[..end].to_string());
        rest = &after[end + 1..];
    }
    labels
}

fn profile(dir: &Path) -> HostProfile {
    detect(
        &LinuxBackend::new(FsRoot::new(dir).unwrap()),
        &[Section::Platform, Section::Cpu, Section::Numa, Section::Memory],
    )
}

#[test]
fn node_exporter_tree_matches_its_golden_output() {
    let Some((_tmp, dir)) = unpack_fixture("node_exporter") else { return };
    let exp = Expected::load(&dir.join("expected/e2e-output.txt"));
    let p = profile(&dir);
    let cpu = p.cpu.as_ref().unwrap();

    let (info, _) = exp.one("node_cpu_info", Some(("cpu", "0")));
    assert_eq!(cpu.model.as_deref(), Some(info["model_name"].as_str()));
    assert_eq!(cpu.vendor.as_deref(), Some(info["vendor"].as_str()));
    assert_eq!(cpu.family.map(|f| f.to_string()).as_deref(), Some(info["family"].as_str()));
    assert_eq!(cpu.model_id.map(|f| f.to_string()).as_deref(), Some(info["model"].as_str()));
    assert_eq!(cpu.stepping.map(|f| f.to_string()).as_deref(), Some(info["stepping"].as_str()));
    assert_eq!(cpu.microcode.as_deref(), Some(info["microcode"].as_str()));
    let flags: Vec<_> = exp.all("node_cpu_flag_info").map(|(l, _)| l["flag"].clone()).collect();
    assert!(!flags.is_empty());
    for f in &flags {
        assert!(cpu.flags.contains(f), "flag {f} missing");
    }

    // Per-CPU frequencies: cpuinfo MHz and cpufreq current/min/max, for every CPU both know.
    let mut checked = 0;
    for l in &cpu.logical {
        let id = l.id.to_string();
        let (_, hz) = exp.one("node_cpu_frequency_hertz", Some(("cpu", &id)));
        assert!((l.cpuinfo_mhz.unwrap() * 1e6 - hz).abs() < 1.0, "cpu {id}");
        let (_, cur) = exp.one("node_cpu_scaling_frequency_hertz", Some(("cpu", &id)));
        let (_, min) = exp.one("node_cpu_scaling_frequency_min_hertz", Some(("cpu", &id)));
        let (_, max) = exp.one("node_cpu_scaling_frequency_max_hertz", Some(("cpu", &id)));
        assert_eq!(l.current_khz.map(|k| k as f64 * 1e3), Some(cur), "cpu {id}");
        assert_eq!(l.min_khz.map(|k| k as f64 * 1e3), Some(min), "cpu {id}");
        assert_eq!(l.max_khz.map(|k| k as f64 * 1e3), Some(max), "cpu {id}");
        let (labels, _) = exp.one("node_cpu_frequency_hertz", Some(("cpu", &id)));
        assert_eq!(l.core.map(|c| c.to_string()).as_deref(), Some(labels["core"].as_str()), "cpu {id}");
        assert_eq!(l.package.map(|c| c.to_string()).as_deref(), Some(labels["package"].as_str()), "cpu {id}");
        checked += 1;
    }
    assert_eq!(checked, 4, "sysfs of this collage has 4 CPUs");

    let mem = p.memory.as_ref().unwrap();
    assert_eq!(mem.total_bytes as f64, exp.one("node_memory_MemTotal_bytes", None).1);
    assert_eq!(mem.swap_total_bytes.map(|b| b as f64), Some(exp.one("node_memory_SwapTotal_bytes", None).1));
    assert_eq!(mem.swap_free_bytes.map(|b| b as f64), Some(exp.one("node_memory_SwapFree_bytes", None).1));
    let size = exp.one("node_memory_Hugepagesize_bytes", None).1;
    let huge =
        mem.hugepages.iter().find(|h| h.page_size_bytes as f64 == size).expect("default huge page size");
    assert_eq!(huge.total as f64, exp.one("node_memory_HugePages_Total", None).1);
    assert_eq!(huge.free as f64, exp.one("node_memory_HugePages_Free", None).1);

    let numa = p.numa.as_ref().unwrap();
    let expected_nodes: Vec<_> = exp.all("node_memory_numa_MemTotal").collect();
    assert_eq!(numa.nodes.len(), expected_nodes.len());
    for (labels, bytes) in expected_nodes {
        let node = numa.nodes.iter().find(|n| n.id.to_string() == labels["node"]).unwrap();
        assert_eq!(node.memory_total_bytes.map(|b| b as f64), Some(bytes), "node {}", node.id);
    }
    assert!(numa.nodes.iter().any(|n| n.cpus.is_empty()), "node2 has memory but no CPU");

    let platform = p.platform.as_ref().unwrap();
    let (os, _) = exp.one("node_os_info", None);
    assert_eq!(platform.distro.as_deref(), Some(os["pretty_name"].as_str()));
    assert_eq!(platform.distro_id.as_deref(), Some(os["id"].as_str()));
    assert_eq!(platform.distro_version.as_deref(), Some(os["version_id"].as_str()));
    assert_eq!(platform.boot_time.map(|b| b as f64), Some(exp.one("node_boot_time_seconds", None).1));
    assert_eq!(platform.arch.as_deref(), Some("x86_64"), "derived from cpuinfo under an alternate root");
}

#[test]
fn procfs_tree_with_offline_cpu_and_empty_cpu_dir() {
    let Some((_tmp, dir)) = unpack_fixture("procfs") else { return };
    let p = profile(&dir);
    let cpu = p.cpu.as_ref().unwrap();
    assert_eq!(cpu.offline, vec![2], "sysfs offline file");
    assert!(!cpu.online.contains(&2));
    assert_eq!(cpu.logical_cpus as usize, cpu.online.len());
    let c0 = cpu.logical.iter().find(|l| l.id == 0).unwrap();
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap().trim().parse::<u64>().unwrap();
    assert_eq!(c0.max_khz, Some(read("sys/devices/system/cpu/cpufreq/policy0/cpuinfo_max_freq")));
    assert_eq!(c0.current_khz, Some(read("sys/devices/system/cpu/cpufreq/policy0/scaling_cur_freq")));
    assert_eq!(p.memory.as_ref().unwrap().available_bytes, None, "this meminfo has no MemAvailable");
    assert!(p.memory.as_ref().unwrap().available_note.is_some());
}

#[test]
fn cpuinfo_samples_of_eight_architectures() {
    let Some((_tmp, dir)) = unpack_fixture("procfs") else { return };
    let parse = |name: &str| {
        let text = std::fs::read_to_string(dir.join("cpuinfo_samples").join(name)).unwrap();
        let info = CpuInfo::parse(&text);
        let arch = info.arch_hint(|s| text.contains(s));
        (info, arch)
    };
    let (arm, arch) = parse("cpuinfoArm7.txt");
    assert_eq!(
        (arm.cpu.vendor.as_deref(), arm.cpu.model.as_deref(), arch),
        (Some("ARM"), Some("Cortex-A72"), Some("arm"))
    );
    assert_eq!(arm.processors.len(), 4);
    assert!(arm.has_flag("neon") && arm.has_flag("vfpv4"));
    let (legacy, _) = parse("cpuinfoArm7Legacy.txt");
    assert_eq!(legacy.cpu.model.as_deref(), Some("Cortex-A7"));
    assert_eq!(legacy.processors.len(), 2);
    let (v6, _) = parse("cpuinfoArm7LegacyV1.txt");
    assert_eq!(v6.cpu.model.as_deref(), Some("ARM1136"));
    assert!(v6.has_flag("java"));
    let (ppc, arch) = parse("cpuinfoPpc64.txt");
    assert_eq!((ppc.cpu.vendor.as_deref(), arch), (Some("IBM"), Some("ppc64")));
    assert_eq!(ppc.cpu.model.as_deref(), Some("POWER7 (architected), altivec supported"));
    assert_eq!(ppc.processors.len(), 6);
    assert_eq!(ppc.processors[0].mhz, Some(3000.0));
    let (s390, arch) = parse("cpuinfoS390x.txt");
    assert_eq!((s390.cpu.vendor.as_deref(), arch), (Some("IBM/S390"), Some("s390x")));
    assert_eq!(s390.cpu.model.as_deref(), Some("IBM machine type 2964"));
    assert!(s390.has_flag("zarch"));
    assert_eq!(s390.processors[1].package, Some(2));
    let (rv, arch) = parse("cpuinfoRiscv64.txt");
    assert_eq!((rv.processors.len(), arch), (2, Some("riscv64")));
    assert_eq!(rv.cpu.flags, ["rv64imafdcsu"]);
    let (mips, _) = parse("cpuinfoMips.txt");
    assert_eq!(mips.cpu.model.as_deref(), Some("Cavium Octeon+ V0.1"));
    assert_eq!(mips.processors[1].core, Some(1));
    let (loong, arch) = parse("cpuinfoLoong64.txt");
    assert_eq!((loong.cpu.model.as_deref(), arch), (Some("Loongson-3A5000"), Some("loongarch64")));
    assert_eq!(loong.processors[2].core, Some(2));
    assert!(loong.has_flag("lvz"));
}
