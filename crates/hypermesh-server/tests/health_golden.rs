//! The health collector on node_exporter's fixture tree gives node_exporter's own golden values
//! (`expected/e2e-output.txt`) for its hwmon and EDAC families, under our names.
#![cfg(native_linux)]

use hypermesh_os::FsRoot;
use hypermesh_os::health;
use hypermesh_server::collectors::health::register;
use hypermesh_testkit::unpack_fixture;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;

/// `name{labels}` → value, labels sorted, for every sample line of a text exposition.
fn samples(text: &str) -> BTreeMap<(String, Vec<(String, String)>), f64> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let mut labels: Vec<(String, String)> = split_labels(labels);
        labels.sort();
        out.insert((name.to_string(), labels), value.parse().unwrap());
    }
    out
}

/// `a="x",b="y, z"` → pairs (values hold no escaped quotes in these files).
fn split_labels(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some((key, tail)) = rest.split_once("=\"") {
        let (value, tail) = tail.split_once('"').unwrap();
        out.push((key.trim_start_matches(',').to_string(), value.to_string()));
        rest = tail;
    }
    out
}

/// Our name for a node_exporter family, where we have it.
fn ours(node_name: &str) -> Option<String> {
    let rest = node_name.strip_prefix("node_")?;
    let covered = rest.starts_with("edac_")
        || [
            "hwmon_temp_celsius",
            "hwmon_temp_crit_celsius",
            "hwmon_temp_max_celsius",
            "hwmon_fan_rpm",
            "hwmon_fan_min_rpm",
            "hwmon_fan_max_rpm",
            "hwmon_fan_target_rpm",
            "hwmon_fan_alarm",
            "hwmon_in_volts",
            "hwmon_in_min_volts",
            "hwmon_in_max_volts",
            "hwmon_in_alarm",
            "hwmon_intrusion_alarm",
            "hwmon_sensor_label",
            "hwmon_chip_names",
            "thermal_zone_temp",
        ]
        .contains(&rest);
    if rest == "hwmon_temp_crit_alarm_celsius" {
        // node_exporter gives the alarm flag a unit; ours has none.
        return Some("hypermesh_hwmon_temp_crit_alarm".into());
    }
    covered.then(|| format!("hypermesh_{rest}"))
}

/// node_exporter rewrites EDAC DIMM labels (drops `#`, puts `_` before `csrow` and `channel`);
/// ours are the kernel's.
fn node_dimm_label(label: &str) -> String {
    label.replace('#', "").replace("csrow", "_csrow").replace("channel", "_channel")
}

#[test]
fn hwmon_edac_and_thermal_match_node_exporters_golden_output() {
    let Some((_tmp, dir)) = unpack_fixture("node_exporter") else { return };
    let report = health::check(&FsRoot::new(&dir).unwrap());
    let mut registry = Registry::with_prefix("hypermesh");
    register(&mut registry, &report);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    let mut mine = samples(&text);
    // The golden run included only these chips (--collector.hwmon.chip-include).
    mine.retain(|(_, labels), _| !labels.iter().any(|(k, v)| k == "chip" && v == "bogus"));
    let golden_text = std::fs::read_to_string(dir.join("expected/e2e-output.txt")).unwrap();
    let mut expected = BTreeMap::new();
    for ((name, labels), value) in samples(&golden_text) {
        // Frequency channels (GPU clocks) are not read: they say nothing about health.
        if labels.iter().any(|(k, v)| k == "sensor" && v.starts_with("freq")) {
            continue;
        }
        if let Some(name) = ours(&name) {
            expected.insert((name, labels), value);
        }
    }
    assert!(expected.len() > 100, "{} golden samples", expected.len());
    let families: std::collections::BTreeSet<&str> = expected.keys().map(|(n, _)| n.as_str()).collect();
    let mut mine_covered: BTreeMap<_, _> = mine
        .into_iter()
        .filter(|((n, _), _)| families.contains(n.as_str()))
        .map(|((n, mut labels), v)| {
            for (k, val) in labels.iter_mut() {
                if k == "dimm_label" {
                    *val = node_dimm_label(val);
                }
            }
            ((n, labels), v)
        })
        .collect();
    let mut missing = Vec::new();
    for (key, want) in &expected {
        match mine_covered.remove(key) {
            Some(got) => assert!((got - want).abs() < 1e-9, "{key:?}: ours {got}, node_exporter {want}"),
            None => missing.push(key.clone()),
        }
    }
    assert!(missing.is_empty(), "missing from ours: {missing:#?}");
    assert!(mine_covered.is_empty(), "ours but not node_exporter's: {mine_covered:#?}");
}

/// Every metric the alerting rules use exists: the health ones in the collector's output for a
/// report with an NVMe log and a thermal trip point, the asset ones in the assets collector.
#[test]
fn alerting_rules_use_metrics_that_exist() {
    use hypermesh_os::health::disks::{DiskHealth, Protocol};
    use hypermesh_os::health::thermal::{ThermalZone, TripPoint};
    use hypermesh_os::health::{HealthReport, nvme};
    let Some((_tmp, dir)) = unpack_fixture("node_exporter") else { return };
    let mut report: HealthReport = health::check(&FsRoot::new(&dir).unwrap());
    let log = nvme::parse(&[0u8; 512]).unwrap();
    report.disks.push(DiskHealth {
        device: "nvme9".into(),
        protocol: Some(Protocol::Nvme),
        assessment: log.assess(),
        nvme: Some(log),
        ..DiskHealth::default()
    });
    report.thermal_zones.push(ThermalZone {
        name: "thermal_zone9".into(),
        zone: 9,
        temperature_celsius: Some(40.0),
        trip_points: vec![TripPoint { index: 0, kind: "critical".into(), temperature_celsius: 105.0 }],
        ..ThermalZone::default()
    });
    let mut registry = Registry::with_prefix("hypermesh");
    register(&mut registry, &report);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    let exposed: std::collections::BTreeSet<String> = samples(&text).into_keys().map(|(n, _)| n).collect();
    let rules = include_str!("../../../deploy/prometheus/alerts.yaml");
    let assets = include_str!("../src/collectors/assets.rs");
    let mut used: Vec<&str> = rules
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("hypermesh_"))
        .collect();
    used.sort_unstable();
    used.dedup();
    assert!(used.len() >= 10, "{used:?}");
    for name in used {
        match name.strip_prefix("hypermesh_asset_") {
            Some(family) => assert!(assets.contains(&format!("\"asset_{family}\"")), "{name}"),
            None => assert!(exposed.contains(name), "{name} is not exposed: {exposed:#?}"),
        }
    }
}
