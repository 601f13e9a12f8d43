//! Parsing conformance against captured trees: the node_exporter fixture's /proc parsed by the
//! sampler must give the values in node_exporter's own golden output (`expected/e2e-output.txt`);
//! /proc/net/dev (absent from that tree) is checked on the procfs fixture.

#![cfg(native_linux)]

use hypermesh_os::FsRoot;
use hypermesh_os::usage::diskstats::{DiskCounters, SECTOR_BYTES};
use hypermesh_os::usage::{PSI_RESOURCES, Sampler};
use hypermesh_testkit as testing;
use std::collections::HashMap;

/// USER_HZ that node_exporter assumes for /proc/stat.
const USER_HZ: f64 = 100.0;

/// `metric{labels} value` lines of a Prometheus text file, keyed by `metric{labels}`.
fn golden(text: &str, metric: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| {
            l.starts_with(metric) && matches!(l.as_bytes().get(metric.len()), Some(b'{') | Some(b' '))
        })
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            Some((key[metric.len()..].to_string(), value.parse().ok()?))
        })
        .collect()
}

fn label<'a>(key: &'a str, name: &str) -> &'a str {
    let start = key.find(&format!("{name}=\"")).expect("label") + name.len() + 2;
    let end = key[start..].find('"').expect("closing quote");
    &key[start..start + end]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn node_exporter_cpu_disk_and_psi_totals() {
    let Some((_tmp, dir)) = testing::unpack_fixture("node_exporter") else { return };
    let expected = std::fs::read_to_string(dir.join("expected/e2e-output.txt")).unwrap();
    let sample = Sampler::new(FsRoot::new(&dir).unwrap()).sample();

    let stat = sample.stat.as_ref().unwrap();
    let cpu_seconds = golden(&expected, "node_cpu_seconds_total");
    assert!(cpu_seconds.len() >= 8 * 8, "golden file has per-CPU seconds");
    for (key, value) in &cpu_seconds {
        let cpu: u32 = label(key, "cpu").parse().unwrap();
        let (_, t) = stat.cpus.iter().find(|(id, _)| *id == cpu).unwrap_or_else(|| panic!("cpu{cpu}"));
        let ticks = match label(key, "mode") {
            // node_exporter reports the raw columns (guest time stays inside user and nice).
            "user" => t.user,
            "nice" => t.nice,
            "system" => t.system,
            "idle" => t.idle,
            "iowait" => t.iowait,
            "irq" => t.irq,
            "softirq" => t.softirq,
            "steal" => t.steal,
            other => panic!("unexpected mode {other}"),
        };
        assert!(close(ticks as f64 / USER_HZ, *value), "{key}: {} vs {value}", ticks as f64 / USER_HZ);
    }

    let disks = sample.disks.as_ref().unwrap();
    type Field = fn(&DiskCounters) -> u64;
    let fields: [(&str, Field); 4] = [
        ("node_disk_read_bytes_total", |d| d.read_sectors * SECTOR_BYTES),
        ("node_disk_written_bytes_total", |d| d.write_sectors * SECTOR_BYTES),
        ("node_disk_reads_completed_total", |d| d.reads),
        ("node_disk_io_now", |d| d.in_flight),
    ];
    for (metric, field) in fields {
        let values = golden(&expected, metric);
        assert!(!values.is_empty(), "{metric} in the golden file");
        for (key, value) in &values {
            let name = label(key, "device");
            let d = disks.iter().find(|d| d.name == name).unwrap_or_else(|| panic!("{name} missing"));
            let got = field(d) as f64;
            assert!(close(got, *value), "{metric} {name}: {got} vs {value}");
        }
    }

    let psi = |res: &str| {
        let i = PSI_RESOURCES.iter().position(|r| *r == res).unwrap();
        *sample.pressure[i].as_ref().unwrap()
    };
    for (metric, line) in [
        ("node_pressure_cpu_waiting_seconds_total", psi("cpu").some),
        ("node_pressure_io_waiting_seconds_total", psi("io").some),
        ("node_pressure_io_stalled_seconds_total", psi("io").full),
        ("node_pressure_memory_waiting_seconds_total", psi("memory").some),
        ("node_pressure_memory_stalled_seconds_total", psi("memory").full),
        ("node_pressure_irq_stalled_seconds_total", psi("irq").full),
    ] {
        let want = golden(&expected, metric)[""];
        let got = line.unwrap().total_us as f64 / 1e6;
        assert!(close(got, want), "{metric}: {got} vs {want}");
    }

    let ctxt = golden(&expected, "node_context_switches_total")[""];
    assert_eq!(stat.context_switches, Some(ctxt as u64));
    let load = sample.load.as_ref().unwrap();
    assert_eq!(load.one, golden(&expected, "node_load1")[""]);
}

#[test]
fn procfs_net_dev() {
    let Some((_tmp, dir)) = testing::unpack_fixture("procfs") else { return };
    let sample = Sampler::new(FsRoot::new(&dir).unwrap()).sample();
    let net = sample.network.as_ref().unwrap();
    let names: Vec<&str> = net.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["vethf345468", "lo", "docker0", "eth0"]);
    // The values prometheus/procfs's own net_dev test expects for this file.
    let lo = &net[1];
    assert_eq!(
        (lo.rx_bytes, lo.rx_packets, lo.tx_bytes, lo.tx_packets),
        (1664039048, 1566805, 1664039048, 1566805)
    );
    let eth0 = &net[3];
    assert_eq!(
        (eth0.rx_bytes, eth0.rx_packets, eth0.tx_bytes, eth0.tx_packets),
        (874354587, 1036395, 563352563, 732147)
    );
}
