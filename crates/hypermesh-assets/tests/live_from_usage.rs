//! `LiveState::from_usage`: the cgroup limits and per-CPU utilisation of two samples of a
//! hand-made tree reach the adapters' live state exactly.

#![cfg(native_linux)]

use hypermesh_assets::LiveState;
use hypermesh_os::FsRoot;
use hypermesh_os::usage::{Rates, Sampler};
use std::path::Path;

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Ticks per mode: user nice system idle iowait irq softirq steal guest guest_nice.
fn stat(cpu0: [u64; 4], cpu1: [u64; 4]) -> String {
    let line = |name: &str, t: [u64; 4]| format!("{name} {} 0 {} {} 0 0 0 0 0 0\n", t[0], t[1], t[2]);
    let total = [cpu0[0] + cpu1[0], cpu0[1] + cpu1[1], cpu0[2] + cpu1[2], 0];
    line("cpu", total) + &line("cpu0", cpu0) + &line("cpu1", cpu1) + "ctxt 1\nprocs_running 1\n"
}

#[test]
fn limits_and_utilisation_from_two_samples() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "proc/self/cgroup", "0::/job\n");
    write(d, "proc/self/mountinfo", "30 20 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n");
    write(d, "sys/fs/cgroup/job/cpu.max", "50000 100000\n");
    write(d, "sys/fs/cgroup/job/memory.max", "268435456\n");
    write(d, "sys/fs/cgroup/job/memory.current", "1048576\n");
    write(d, "proc/stat", &stat([100, 0, 100, 0], [0, 0, 100, 0]));
    let mut sampler = Sampler::new(FsRoot::new(d).unwrap());
    let before = sampler.sample();
    // cpu0: 75 busy ticks of 100; cpu1: 10 busy of 100.
    write(d, "proc/stat", &stat([150, 25, 125, 0], [10, 0, 190, 0]));
    let after = sampler.sample();

    let live = LiveState::from_usage(&Rates::between(&before, &after));
    assert_eq!(live.cpu_limit_cpus, Some(0.5));
    assert_eq!(live.memory_limit_bytes, Some(268_435_456));
    assert_eq!(live.cpu_utilisation.len(), 2, "{live:?}");
    assert!((live.cpu_utilisation[&0] - 0.75).abs() < 1e-9, "{live:?}");
    assert!((live.cpu_utilisation[&1] - 0.10).abs() < 1e-9, "{live:?}");

    // One sample twice: limits, no utilisation.
    let only_limits = LiveState::from_usage(&Rates::between(&after, &after));
    assert_eq!(only_limits.cpu_limit_cpus, Some(0.5));
    assert!(only_limits.cpu_utilisation.is_empty(), "{only_limits:?}");
}
