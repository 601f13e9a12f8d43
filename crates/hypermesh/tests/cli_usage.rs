//! `hypermesh usage` and `hypermesh watch` as a user runs them: the JSON contract, a captured
//! root, bad intervals, and a clean exit on SIGINT.

#![cfg(native_linux)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn hypermesh() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hypermesh"))
}

fn json_of(args: &[&str]) -> Value {
    let out = hypermesh().args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn usage_json_contract_on_this_host() {
    let v = json_of(&["usage", "--json", "--interval", "200ms"]);
    let num = |p: &str| v.pointer(p).unwrap_or_else(|| panic!("{p} missing in {v}")).as_f64().is_some();
    assert!(num("/cpu/total_percent"));
    let per_cpu = v["cpu"]["per_cpu"].as_array().unwrap();
    assert!(!per_cpu.is_empty() && per_cpu[0]["total_percent"].is_number());
    assert!(num("/load/one") && num("/load/five") && num("/load/fifteen"));
    assert!(v["pressure"].is_object());
    assert!(num("/memory/used_bytes") && num("/memory/available_bytes"));
    let disks = v["disks"].as_array().unwrap();
    assert!(!disks.is_empty());
    for key in ["name", "read_bytes_per_sec", "write_bytes_per_sec", "reads_per_sec", "writes_per_sec"] {
        assert!(disks.iter().all(|d| d.get(key).is_some()), "disks[].{key}");
    }
    let lo = v["network"].as_array().unwrap().iter().find(|n| n["name"] == "lo").expect("lo");
    assert!(lo["rx_bytes_per_sec"].is_number() && lo["tx_bytes_per_sec"].is_number());
    let cg = &v["cgroup"];
    for key in ["version", "cpu_limit_cpus", "memory_limit_bytes", "memory_current_bytes"] {
        assert!(cg.get(key).is_some(), "cgroup.{key} in {cg}");
    }
    let limit = &cg["memory_limit_bytes"];
    assert!(limit.is_null() || limit.as_u64().is_some_and(|l| l < 0x7FFF_FFFF_FFFF_0000), "{limit}");
    assert!((v["interval_seconds"].as_f64().unwrap() - 0.2).abs() < 0.15);
}

#[test]
fn usage_reads_a_captured_root() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("proc")).unwrap();
    std::fs::write(d.join("proc/meminfo"), "MemTotal: 4096 kB\nMemAvailable: 1024 kB\n").unwrap();
    std::fs::write(d.join("proc/loadavg"), "2.00 1.00 0.50 1/1 1\n").unwrap();
    let v = json_of(&["--root", d.to_str().unwrap(), "usage", "--json", "--interval", "10ms"]);
    assert_eq!(v["memory"]["used_bytes"], 3072 * 1024);
    assert_eq!(v["load"]["one"], 2.0);
    assert!(v["cpu"].is_null());
    assert!(v["cgroup"]["version"].is_null());
    let errors = v["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["source"] == "cpu"), "{errors:?}");
    assert!(errors.iter().any(|e| e["source"] == "filesystems"), "statvfs refused under a capture");
    let human =
        hypermesh().args(["--root", d.to_str().unwrap(), "usage", "--interval", "10ms"]).output().unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("Could not read:") && text.contains("3.0 MiB of 4.0 MiB"), "{text}");
}

#[test]
fn bad_intervals_are_refused() {
    for bad in ["0s", "soon", "-1s"] {
        let out = hypermesh().args(["usage", "--interval", bad]).output().unwrap();
        assert!(!out.status.success(), "{bad} accepted");
    }
}

#[test]
fn watch_prints_json_lines_and_exits_cleanly_on_sigint() {
    let mut child = hypermesh()
        .args(["watch", "--json", "--interval", "100ms"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for _ in 0..2 {
        let line = lines.next().unwrap().unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert!(v["cpu"]["total_percent"].is_number(), "{line}");
    }
    hypermesh_testkit::send_signal(child.id(), libc::SIGINT);
    let status = child.wait().unwrap();
    assert!(status.success(), "watch ended with {status} on SIGINT");
}
