//! The `hypermesh profile` and `hypermesh capture` commands as a user runs them.

#![cfg(native_linux)]

use std::process::Command;

fn hypermesh(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hypermesh")).args(args).env_remove("HYPERMESH_ROOT").output().unwrap()
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = hypermesh(args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn json_has_the_contract_fields_of_my_sections() {
    let p = json(&["profile", "--json", "--section", "platform,cpu,numa,memory"]);
    for key in ["os", "kernel", "arch", "hostname", "virtualization", "container"] {
        assert!(p["platform"].get(key).is_some(), "platform.{key}");
    }
    for key in [
        "vendor",
        "model",
        "packages",
        "cores",
        "logical_cpus",
        "threads_per_core",
        "flags",
        "caches",
        "kinds",
    ] {
        assert!(p["cpu"].get(key).is_some(), "cpu.{key}");
    }
    assert!(p["cpu"]["logical_cpus"].as_u64().unwrap() >= 1);
    assert!(!p["cpu"]["kinds"].as_array().unwrap().is_empty());
    for key in ["total_bytes", "available_bytes", "swap_total_bytes"] {
        assert!(p["memory"].get(key).is_some(), "memory.{key}");
    }
    let node = &p["numa"]["nodes"][0];
    for key in ["id", "cpus", "memory_total_bytes"] {
        assert!(node.get(key).is_some(), "numa.nodes[].{key}");
    }
    assert!(p["storage"].is_null(), "not asked for");
    assert!(p["errors"].is_array());
}

#[test]
fn tables_show_sizes_in_human_units() {
    let out = hypermesh(&["profile", "--section", "cpu,memory"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("logical cpus") && text.contains("CACHE"), "{text}");
    assert!(text.contains("GiB"), "{text}");
}

#[test]
fn empty_root_is_one_line_per_error_and_a_failure_exit() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    let out = hypermesh(&["--root", root, "profile", "--section", "cpu,memory,numa"]);
    assert!(!out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Could not read:") && text.contains("/proc/meminfo"), "{text}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn capture_then_root_reads_the_same_cpu_and_memory() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("host.tar.gz");
    let out = hypermesh(&["capture", archive.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let unpacked = dir.path().join("root");
    std::fs::create_dir(&unpacked).unwrap();
    let status = Command::new("tar").arg("xzf").arg(&archive).arg("-C").arg(&unpacked).status().unwrap();
    assert!(status.success());
    let live = json(&["profile", "--json", "--section", "cpu,memory,numa,platform"]);
    let replay = json(&[
        "--root",
        unpacked.to_str().unwrap(),
        "profile",
        "--json",
        "--section",
        "cpu,memory,numa,platform",
    ]);
    for (section, key) in [
        ("cpu", "model"),
        ("cpu", "cores"),
        ("cpu", "caches"),
        ("cpu", "kinds"),
        ("memory", "total_bytes"),
        ("numa", "nodes"),
        ("platform", "distro"),
        ("platform", "arch"),
    ] {
        if section == "numa" {
            let ids = |p: &serde_json::Value| {
                p["numa"]["nodes"].as_array().unwrap().iter().map(|n| n["cpus"].clone()).collect::<Vec<_>>()
            };
            assert_eq!(ids(&live), ids(&replay));
            continue;
        }
        assert_eq!(live[section][key], replay[section][key], "{section}.{key}");
    }
    hypermesh_testkit::assert_same_virtualization(&live, &replay);
}

/// Caches of different sizes at one level (a Grace-like host: 8M and 16M L3s) are one table
/// row per group, each with its instances and CPUs.
#[test]
fn cache_table_has_one_row_per_group() {
    use hypermesh_testkit::synthetic::{Machine, Tree};
    let dir = tempfile::tempdir().unwrap();
    let t = Tree::new(dir.path()).unwrap();
    Machine::x86(2, 4, 1).write(&t).unwrap();
    for c in 4..8 {
        t.file(&format!("/sys/devices/system/cpu/cpu{c}/cache/index3/size"), "16384K\n").unwrap();
    }
    let root = dir.path().to_str().unwrap();
    let out = hypermesh(&["--root", root, "profile", "--section", "cpu"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let l3: Vec<Vec<&str>> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("L3"))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        l3,
        vec![
            vec!["L3", "unified", "32.0", "MiB", "1", "0-3"],
            vec!["L3", "unified", "16.0", "MiB", "1", "4-7"]
        ],
        "{text}"
    );
}
