//! The portable backend as a user runs it: `--backend portable` on Linux, and the default (and
//! only) backend on a build without the `native_linux` cfg, where the Linux-only commands must
//! fail with a message naming the platform. `.ci/run` runs this file in both builds.

use serde_json::Value;
use std::process::{Command, Output};

fn hypermesh(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hypermesh"))
        .args(args)
        .env_remove("HYPERMESH_ROOT")
        .env_remove("HYPERMESH_BACKEND")
        .output()
        .unwrap()
}

fn json(args: &[&str]) -> Value {
    let out = hypermesh(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Fails, and says why on stderr.
fn refused(args: &[&str]) -> String {
    let out = hypermesh(args);
    assert!(!out.status.success(), "{args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn portable_profile_json_has_every_section_it_can_know() {
    let p = json(&["--backend", "portable", "profile", "--json"]);
    assert_eq!(p["backend"], "portable");
    let usable = std::thread::available_parallelism().unwrap().get() as u64;
    assert!(p["cpu"]["logical_cpus"].as_u64().unwrap() >= usable, "{}", p["cpu"]);
    assert!(p["memory"]["total_bytes"].as_u64().unwrap() > 0);
    assert!(!p["storage"]["filesystems"].as_array().unwrap().is_empty());
    let names: Vec<&str> =
        p["network"]["interfaces"].as_array().unwrap().iter().filter_map(|i| i["name"].as_str()).collect();
    assert!(names.iter().any(|n| n.starts_with("lo")), "{names:?}");
    // What sysinfo cannot know is null with a reason, never guessed.
    assert!(p["numa"].is_null());
    let numa = p["errors"].as_array().unwrap().iter().find(|e| e["section"] == "numa").expect("numa reason");
    assert!(numa["message"].as_str().unwrap().contains("sysinfo"), "{numa}");
}

#[test]
fn portable_usage_and_assets() {
    let u = json(&["--backend", "portable", "usage", "--json", "--interval", "300ms"]);
    let total = u["cpu"]["total_percent"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&total), "{total}");
    assert!(u["memory"]["used_bytes"].as_u64().unwrap() > 0);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().to_str().unwrap();
    let a = json(&[
        "--backend",
        "portable",
        "assets",
        "--state-dir",
        state,
        "--utilisation-interval",
        "300ms",
        "--json",
    ]);
    let cpus = a["assets"].as_array().unwrap().iter().filter(|x| x["kind"] == "cpu").count();
    assert!(cpus >= 1, "{a}");
}

#[test]
fn portable_refuses_another_root() {
    let dir = tempfile::tempdir().unwrap();
    let err = refused(&["--backend", "portable", "--root", dir.path().to_str().unwrap(), "profile"]);
    let expected = if cfg!(native_linux) { "live host only" } else { "--root/HYPERMESH_ROOT" };
    assert!(err.contains(expected), "{err}");
}

/// Without `native_linux`: portable by default, and each Linux-only command fails naming the
/// platform instead of being absent.
#[cfg(not(native_linux))]
#[test]
fn linux_only_commands_name_the_platform() {
    assert_eq!(json(&["profile", "--json", "--section", "cpu"])["backend"], "portable");
    let platform = "this portable-only build";
    for args in [
        &["ebpf", "probe", "--json"][..],
        &["capture", "x.tar.gz"],
        &["serve", "--listen", "127.0.0.1:0"],
        &["top"],
        &["health", "--json"],
        &["--backend", "native", "profile"],
    ] {
        let err = refused(args);
        assert!(err.contains(platform) && err.contains("not available"), "{args:?}: {err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let out = hypermesh(&["nfd", "--out", dir.path().to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("no eBPF labels") && err.contains(platform), "{err}");
}
