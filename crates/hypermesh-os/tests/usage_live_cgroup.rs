//! As root on the live host: a child cgroup with a 0.5 CPU quota and a 256 MiB memory limit; a
//! child process moves itself into it, samples, and must report exactly those limits. Uses the
//! v2 hierarchy when it offers the cpu and memory controllers, else the v1 hierarchies (this
//! project's machine mounts both, with cpu and memory on v1). The cgroups are removed even when
//! the test fails.

#![cfg(native_linux)]

use hypermesh_os::FsRoot;
use hypermesh_os::linux::mountinfo;
use hypermesh_os::usage::{Rates, Sampler};
use hypermesh_testkit as testing;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Variable naming the `cgroup.procs` files the probe child joins (colon-separated).
const PROBE_VAR: &str = "HYPERMESH_CGROUP_PROBE";
const LIMIT_BYTES: u64 = 256 << 20;

/// Removes the test's cgroups when dropped (after the child has exited).
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for dir in &self.0 {
            for _ in 0..100 {
                if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {text:?} to {}: {e}", path.display()));
}

/// Creates the test cgroup(s) and returns (version, cgroup.procs files, cleanup).
fn make_cgroups() -> Option<(&'static str, Vec<PathBuf>, Cleanup)> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let (mounts, _) = mountinfo::parse(&text);
    let name = format!("hypermesh-usage-test-{}", std::process::id());
    let v2 = mounts.iter().find(|m| m.fs_type == "cgroup2").map(|m| PathBuf::from(&m.mount_point));
    if let Some(root) = v2.clone().filter(|r| {
        let ctl = std::fs::read_to_string(r.join("cgroup.controllers")).unwrap_or_default();
        ctl.split_whitespace().any(|c| c == "cpu") && ctl.split_whitespace().any(|c| c == "memory")
    }) {
        write(&root.join("cgroup.subtree_control"), "+cpu +memory");
        let dir = root.join(&name);
        std::fs::create_dir(&dir).unwrap();
        let cleanup = Cleanup(vec![dir.clone()]);
        write(&dir.join("cpu.max"), "50000 100000");
        write(&dir.join("memory.max"), &LIMIT_BYTES.to_string());
        return Some(("v2", vec![dir.join("cgroup.procs")], cleanup));
    }
    let v1 = |ctl: &str| {
        mounts
            .iter()
            .find(|m| m.fs_type == "cgroup" && m.super_options.split(',').any(|o| o == ctl))
            .map(|m| PathBuf::from(&m.mount_point).join(&name))
    };
    let (cpu, mem) = (v1("cpu")?, v1("memory")?);
    std::fs::create_dir(&cpu).unwrap();
    let mut cleanup = Cleanup(vec![cpu.clone()]);
    std::fs::create_dir(&mem).unwrap();
    cleanup.0.push(mem.clone());
    write(&cpu.join("cpu.cfs_period_us"), "100000");
    write(&cpu.join("cpu.cfs_quota_us"), "50000");
    write(&mem.join("memory.limit_in_bytes"), &LIMIT_BYTES.to_string());
    let version = if v2.is_some() { "hybrid" } else { "v1" };
    Some((version, vec![cpu.join("cgroup.procs"), mem.join("cgroup.procs")], cleanup))
}

#[test]
fn limits_of_a_cgroup_the_sampler_runs_in() {
    if !testing::is_root() {
        testing::skip("creating cgroups needs root");
        return;
    }
    let Some((version, procs, _cleanup)) = make_cgroups() else {
        testing::skip("no cgroup hierarchy with the cpu and memory controllers is mounted");
        return;
    };
    let joined = procs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":");
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "cgroup_probe_child", "--nocapture", "--test-threads=1"])
        .env(PROBE_VAR, joined)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "probe failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let line =
        stdout.lines().find_map(|l| l.split_once("PROBE:").map(|(_, json)| json)).expect("probe output");
    let report: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(report["version"], version, "{report}");
    assert_eq!(report["cpu_limit_cpus"], 0.5, "{report}");
    assert_eq!(report["memory_limit_bytes"], LIMIT_BYTES, "{report}");
    assert!(report["memory_current_bytes"].as_u64().is_some_and(|m| m > 0 && m <= LIMIT_BYTES), "{report}");
    assert_eq!(report["effective_cpus"], 0.5, "{report}");
    assert_eq!(report["effective_memory_bytes"], LIMIT_BYTES, "{report}");
}

/// The child half of [`limits_of_a_cgroup_the_sampler_runs_in`]: runs only when started by it
/// (with [`PROBE_VAR`] set); joins the cgroups, samples, prints the cgroup report.
#[test]
fn cgroup_probe_child() {
    let Some(procs) = std::env::var_os(PROBE_VAR) else { return };
    for file in procs.to_string_lossy().split(':') {
        write(Path::new(file), "0");
    }
    let mut sampler = Sampler::new(FsRoot::host());
    let a = sampler.sample();
    std::thread::sleep(Duration::from_millis(100));
    let r = Rates::between(&a, &sampler.sample());
    println!("PROBE:{}", serde_json::to_string(&r.cgroup).unwrap());
}
