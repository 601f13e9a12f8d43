//! Shared helpers of the integration tests: root check, scheduler load, program listing.
#![allow(dead_code)] // each test binary uses a subset

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

/// True when the test may run: root, else a skip (a failure under HYPERMESH_REQUIRE_ALL=1).
pub fn root_or_skip(what: &str) -> bool {
    if hypermesh_testkit::is_root() {
        return true;
    }
    hypermesh_testkit::skip(&format!("{what} needs root (loads eBPF programs)"));
    false
}

/// True when the kernel has BTF (tp_btf and fentry need it), else a skip.
pub fn btf_or_skip() -> bool {
    if std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
        return true;
    }
    hypermesh_testkit::skip("tp_btf needs kernel BTF (/sys/kernel/btf/vmlinux)");
    false
}

/// True when `tool` runs, else a skip naming the Debian package.
pub fn tool_or_skip(tool: &str, package: &str) -> bool {
    if Command::new(tool).arg("--help").output().is_ok() {
        return true;
    }
    hypermesh_testkit::skip(&format!("{tool} not found (install Debian package {package})"));
    false
}

/// Generates scheduler activity for `d`: thread pairs ping-ponging over channels (wakeups and
/// switches) plus sleepers, more threads than CPUs so tasks also wait in the run queue.
pub fn scheduler_load(d: Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    for _ in 0..cpus * 2 {
        let (to_b, from_a) = mpsc::channel::<u32>();
        let (to_a, from_b) = mpsc::channel::<u32>();
        let s = stop.clone();
        threads.push(std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if to_b.send(1).is_err() || from_b.recv().is_err() {
                    break;
                }
            }
        }));
        threads.push(std::thread::spawn(move || {
            while let Ok(v) = from_a.recv() {
                if to_a.send(v).is_err() {
                    break;
                }
            }
        }));
    }
    for _ in 0..cpus {
        let s = stop.clone();
        threads.push(std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_micros(500));
            }
        }));
    }
    std::thread::sleep(d);
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
}

/// Ids of the programs `bpftool prog show --json` lists.
pub fn bpftool_prog_ids() -> BTreeSet<u32> {
    let out = Command::new("bpftool").args(["prog", "show", "--json"]).output().expect("run bpftool");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("bpftool JSON");
    v.as_array().into_iter().flatten().filter_map(|p| p["id"].as_u64()).map(|i| i as u32).collect()
}

/// Waits (the kernel frees programs asynchronously, after an RCU grace period) until none of
/// `ids` is listed by bpftool; returns those still there after 10 s.
pub fn wait_gone(ids: &[u32]) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let live = bpftool_prog_ids();
        let left: Vec<u32> = ids.iter().copied().filter(|i| live.contains(i)).collect();
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// True when the running kernel is at least `version`; else prints why the test is skipped and
/// returns false. Not a failure even under HYPERMESH_REQUIRE_ALL=1: an older kernel cannot have
/// `feature`. (On a new enough kernel the test runs, and a missing feature fails it.)
pub fn kernel_at_least(version: (u32, u32), feature: &str) -> bool {
    let running = hypermesh_ebpf::sys::kernel_version();
    if running >= version {
        return true;
    }
    eprintln!(
        "SKIP: {feature} needs Linux {}.{}+, this kernel is {}.{}",
        version.0, version.1, running.0, running.1
    );
    false
}
