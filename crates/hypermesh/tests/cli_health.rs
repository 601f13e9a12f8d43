//! `hypermesh health` as a whole process: the JSON report on node_exporter's fixture tree and on
//! this host, and the table's rows.

#![cfg(native_linux)]

use hypermesh_testkit::unpack_fixture;
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

/// `scripts/vm-health-compare.py` agrees on a report and smartctl outputs that match, and names
/// the field when one differs.
#[test]
fn vm_health_compare_script() {
    use hypermesh_os::health::disks::{DiskHealth, Protocol};
    use hypermesh_os::health::{HealthReport, ata, nvme};
    let python =
        ["python3", "/usr/bin/python3"].into_iter().find(|p| Command::new(p).arg("-V").output().is_ok());
    let Some(python) = python else {
        return hypermesh_testkit::skip("python3 not installed");
    };
    let mut page = [0u8; 512];
    page[1..3].copy_from_slice(&310u16.to_le_bytes());
    page[3] = 100;
    page[4] = 10;
    page[128..144].copy_from_slice(&8_766u128.to_le_bytes());
    page[200..202].copy_from_slice(&305u16.to_le_bytes());
    let log = nvme::parse(&page).unwrap();
    let mut data = [0u8; 512];
    data[0] = 16;
    data[2..14].copy_from_slice(&[5, 0x33, 0, 100, 100, 0, 0, 0, 0, 0, 0, 0]);
    data[14..26].copy_from_slice(&[9, 0x32, 0, 99, 99, 0x34, 0x12, 0, 0, 0, 0, 0]);
    data[26..38].copy_from_slice(&[194, 0x22, 0, 64, 50, 36, 0, 20, 0, 40, 0, 0]);
    data[511] = data.iter().fold(0u8, |a, b| a.wrapping_add(*b)).wrapping_neg();
    let mut thr = [0u8; 512];
    thr[0] = 16;
    thr[2] = 5;
    thr[3] = 36;
    thr[14] = 9;
    thr[26] = 194;
    thr[511] = thr.iter().fold(0u8, |a, b| a.wrapping_add(*b)).wrapping_neg();
    let smart = ata::decode(true, &data, &thr).unwrap();
    let report = HealthReport {
        disks: vec![
            DiskHealth {
                device: "nvme0".into(),
                protocol: Some(Protocol::Nvme),
                nvme: Some(log),
                ..DiskHealth::default()
            },
            DiskHealth {
                device: "sda".into(),
                protocol: Some(Protocol::Ata),
                ata: Some(smart),
                ..DiskHealth::default()
            },
            DiskHealth { device: "vda".into(), ..DiskHealth::default() },
        ],
        ..HealthReport::default()
    };
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, v: &Value| {
        let p = tmp.path().join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p.to_str().unwrap().to_string()
    };
    let health = write("health.json", &serde_json::to_value(&report).unwrap());
    let nvme = write(
        "nvme0.json",
        &serde_json::json!({
            "device": {"name": "/dev/nvme0n1", "type": "nvme", "protocol": "NVMe"},
            "smart_status": {"passed": true, "nvme": {"value": 0}},
            "nvme_smart_health_information_log": {
                "critical_warning": 0, "temperature": 37, "available_spare": 100,
                "available_spare_threshold": 10, "percentage_used": 0, "data_units_read": 0,
                "data_units_written": 0, "host_reads": 0, "host_writes": 0, "controller_busy_time": 0,
                "power_cycles": 0, "power_on_hours": 8766, "unsafe_shutdowns": 0, "media_errors": 0,
                "num_err_log_entries": 0, "warning_temp_time": 0, "critical_comp_time": 0,
                "temperature_sensors": [32]
            }
        }),
    );
    let attr = |id: u64, name: &str, flags: u64, value: u64, worst: u64, thresh: u64, raw: u64| {
        serde_json::json!({"id": id, "name": name, "value": value, "worst": worst, "thresh": thresh,
            "when_failed": "", "flags": {"value": flags, "prefailure": flags & 1 == 1},
            "raw": {"value": raw, "string": raw.to_string()}})
    };
    let mut sda = serde_json::json!({
        "device": {"name": "/dev/sda", "type": "sat", "protocol": "ATA"},
        "smart_support": {"available": true, "enabled": true},
        "smart_status": {"passed": true},
        "ata_smart_attributes": {"revision": 16, "table": [
            attr(5, "Reallocated_Sector_Ct", 0x33, 100, 100, 36, 0),
            attr(9, "Power_On_Hours", 0x32, 99, 99, 0, 0x1234),
            attr(194, "Temperature_Celsius", 0x22, 64, 50, 0, 0x0028_0014_0024),
        ]},
        "temperature": {"current": 36},
        "power_on_time": {"hours": 0x1234}
    });
    // What smartctl 7.3 prints for a virtio disk: no "device" object at all.
    let vda = write(
        "vda.json",
        &serde_json::json!({"smartctl": {"argv": ["smartctl", "-j", "-a", "/dev/vda"], "exit_status": 1}}),
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/vm-health-compare.py");
    let run = |files: &[&str]| Command::new(python).arg(script).args(files).output().unwrap();
    let sda_path = write("sda.json", &sda);
    let out = run(&[&health, &nvme, &sda_path, &vda]);
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("3 devices") && text.contains("0 differences: agree"), "{text}");

    sda["ata_smart_attributes"]["table"][0]["raw"]["value"] = serde_json::json!(8);
    let sda_path = write("sda.json", &sda);
    let out = run(&[&health, &nvme, &sda_path]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("sda: attribute 5 raw: hypermesh 0, smartctl 8"), "{text}");
}
