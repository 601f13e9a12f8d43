//! `hypermesh health` as a whole process: the JSON report on node_exporter's fixture tree and on
//! this host, and the table's rows.

#![cfg(native_linux)]

use hypermesh_os::testing::unpack_fixture;
use serde_json::Value;
use std::process::Command;

fn hypermesh(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hypermesh")).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn fixture_tree_as_json_and_table() {
    let Some((_tmp, dir)) = unpack_fixture("node_exporter") else { return };
    let root = dir.to_str().unwrap();
    let report: Value = serde_json::from_str(&hypermesh(&["--root", root, "health", "--json"])).unwrap();
    let mc0 = &report["memory_controllers"][0];
    assert_eq!((mc0["name"].as_str(), mc0["uncorrectable_errors"].as_u64()), (Some("mc0"), Some(5)));
    let nvme0 = report["disks"].as_array().unwrap().iter().find(|d| d["device"] == "nvme0").unwrap();
    assert_eq!(nvme0["status"], "unavailable");
    assert_eq!(nvme0["block_devices"], serde_json::json!(["nvme0n1"]));
    let coretemp = &report["sensors"][0];
    assert_eq!(coretemp["chip"], "platform_coretemp_0");
    assert_eq!(coretemp["sensors"][0]["crit"].as_f64(), Some(100.0));

    let table = hypermesh(&["--root", root, "health"]);
    let row = |name: &str| {
        table
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name}: {table}"))
    };
    assert!(row("mc0").contains("failing") && row("mc0").contains("5 uncorrected memory errors"), "{table}");
    assert!(row("nct6779").contains("warning") && row("nct6779").contains("in1 alarm raised"), "{table}");
    assert!(row("thermal_zone0").contains("12.376 °C"), "{table}");
}

#[test]
fn this_host() {
    let report: Value = serde_json::from_str(&hypermesh(&["health", "--json"])).unwrap();
    assert_eq!(report["errors"], serde_json::json!([]));
    for d in report["disks"].as_array().unwrap() {
        // Every disk has a verdict; one that cannot report says why.
        let status = d["status"].as_str().unwrap();
        assert!(["ok", "warning", "failing", "unsupported", "unavailable"].contains(&status), "{d}");
        if status == "unsupported" || status == "unavailable" {
            assert!(!d["reasons"].as_array().unwrap().is_empty(), "{d}");
        }
        if d["device"].as_str().unwrap().starts_with("vd") {
            assert_eq!(status, "unsupported", "{d}");
        }
    }
}
