//! A generated giant: 4096 CPUs, 64 NUMA nodes, 1024 disks and 512 network interfaces. The whole
//! profile must come back complete, in bounded time and bounded memory.
//!
//! This file holds a single test so that the peak RSS read from `/proc/self/status` (after
//! resetting it through `/proc/self/clear_refs`) belongs to this detection alone.

#![cfg(native_linux)]

use hypermesh_os::linux::LinuxBackend;
use hypermesh_os::{FsRoot, detect};
use hypermesh_testkit::synthetic::{Machine, Tree};
use std::time::{Duration, Instant};

/// Peak resident set size of this process in KiB (`VmHWM`).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn four_thousand_cpus_thousand_disks_five_hundred_interfaces() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tree::new(dir.path()).unwrap();
    Machine::x86(64, 32, 2).write(&t).unwrap();
    t.virtio_disks(1024).unwrap();
    t.ethernet_interfaces(512).unwrap();

    // Reset the high-water mark so that tree generation does not count (kernel ≥ 4.0).
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = peak_rss_kib();
    let start = Instant::now();
    let p = detect(&LinuxBackend::new(FsRoot::new(t.path()).unwrap()), &[]);
    let took = start.elapsed();
    let peak = peak_rss_kib();
    for e in &p.errors {
        eprintln!("  {e}");
    }
    eprintln!(
        "hostile scale: profile in {took:.2?}, peak RSS {} MiB (before {} MiB, reset {reset}), {} errors",
        peak / 1024,
        before / 1024,
        p.errors.len()
    );

    let cpu = p.cpu.as_ref().expect("cpu section");
    assert_eq!(cpu.logical_cpus, 4096);
    assert_eq!(cpu.packages, 64);
    assert_eq!(cpu.cores, 2048);
    assert_eq!(p.numa.as_ref().expect("numa section").nodes.len(), 64);
    let storage = p.storage.as_ref().expect("storage section");
    assert_eq!(storage.block_devices.len(), 1024);
    assert!(storage.block_devices.iter().all(|d| d.partitions.len() == 1 && d.size_bytes == Some(1 << 30)));
    let net = p.network.as_ref().expect("network section");
    assert_eq!(net.interfaces.len(), 512);
    assert!(net.interfaces.iter().all(|i| i.mtu == Some(1500)));
    // Generous bounds: the measured figures are printed above and recorded in the README.
    assert!(took < Duration::from_secs(30), "took {took:?}");
    assert!(peak < 512 * 1024, "peak RSS {peak} KiB");
}
