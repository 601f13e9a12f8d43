//! This machine against the kernel's and trusted tools' view (`nproc`, `/proc/meminfo`,
//! `lscpu`), and a capture of it read back with an alternate root.

#![cfg(native_linux)]

use hypermesh_os::linux::LinuxBackend;
use hypermesh_os::{FsRoot, HostProfile, Section, capture, detect};
use hypermesh_testkit::{self as testing, skip};
use std::process::Command;

const MINE: [Section; 4] = [Section::Platform, Section::Cpu, Section::Numa, Section::Memory];

fn host() -> HostProfile {
    detect(&LinuxBackend::new(FsRoot::host()), &MINE)
}

fn tool(cmd: &str, args: &[&str]) -> Option<String> {
    match Command::new(cmd).args(args).output() {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).into_owned()),
        _ => {
            skip(&format!("{cmd} not available (apt install util-linux / coreutils)"));
            None
        }
    }
}

#[test]
fn logical_cpus_equal_nproc_and_memtotal_equals_meminfo() {
    let p = host();
    assert!(p.errors.iter().all(|e| e.section != Section::Cpu || e.path.is_some()), "{:?}", p.errors);
    let cpu = p.cpu.unwrap();
    if let Some(out) = tool("nproc", &["--all"]) {
        assert_eq!(cpu.logical_cpus, out.trim().parse::<u32>().unwrap());
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    assert_eq!(p.memory.unwrap().total_bytes, kb * 1024);
}

#[test]
fn topology_matches_lscpu() {
    let Some(out) = tool("lscpu", &["-J"]) else { return };
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let field = |name: &str| -> Option<u32> {
        json["lscpu"].as_array()?.iter().find(|e| e["field"] == name)?["data"].as_str()?.trim().parse().ok()
    };
    let cpu = host().cpu.unwrap();
    assert_eq!(Some(cpu.logical_cpus), field("CPU(s):"));
    assert_eq!(Some(cpu.threads_per_core), field("Thread(s) per core:"));
    let sockets = field("Socket(s):").unwrap();
    assert_eq!(cpu.packages, sockets);
    assert_eq!(Some(cpu.cores), field("Core(s) per socket:").map(|c| c * sockets));
    assert_eq!(
        cpu.vendor.as_deref(),
        json["lscpu"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["field"] == "Vendor ID:")
            .and_then(|e| e["data"].as_str())
    );
}

/// Live values (uptime, free memory, current frequencies) are cleared before comparing.
fn without_live_values(mut p: HostProfile) -> HostProfile {
    if let Some(pl) = &mut p.platform {
        pl.uptime_seconds = None;
    }
    if let Some(c) = &mut p.cpu {
        for l in &mut c.logical {
            l.current_khz = None;
            l.cpuinfo_mhz = None;
        }
    }
    if let Some(m) = &mut p.memory {
        m.available_bytes = None;
        m.free_bytes = None;
        m.buffers_bytes = None;
        m.cached_bytes = None;
        m.swap_free_bytes = None;
        for h in &mut m.hugepages {
            h.free = 0;
        }
    }
    if let Some(n) = &mut p.numa {
        for node in &mut n.nodes {
            node.memory_free_bytes = None;
            for h in &mut node.hugepages {
                h.free = 0;
            }
        }
    }
    p.storage = None;
    p.network = None;
    p.gpus.clear();
    p.errors.retain(|e| MINE.contains(&e.section));
    p
}

#[test]
fn capture_read_back_gives_the_same_profile() {
    let mut archive = Vec::new();
    let (live, stats) = capture::capture(FsRoot::host(), &mut archive).unwrap();
    assert!(stats.files > 10 && stats.bytes > 0, "{stats:?}");
    let dir = tempfile::tempdir().unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(archive.as_slice())).unpack(dir.path()).unwrap();
    assert!(!dir.path().join("proc/kcore").exists(), "only files the profile reads");
    let replay = detect(&LinuxBackend::new(FsRoot::new(dir.path()).unwrap()), &[]);
    let mut live = without_live_values(live);
    if let Some(p) = live.platform.as_mut() {
        let (verdict, source) = testing::replayed_virtualization((
            p.virtualization.as_deref(),
            p.virtualization_source.as_deref(),
        ));
        (p.virtualization, p.virtualization_source) = (verdict.map(Into::into), source.map(Into::into));
    }
    assert_eq!(without_live_values(replay), live);
}
