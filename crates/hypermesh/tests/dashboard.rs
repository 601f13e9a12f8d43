//! `deploy/grafana/hypermesh.json` against a real Prometheus that scraped `hypermesh serve`
//! (every collector): every panel's query and the node picker's return data, or are known to
//! be empty on this machine for a reason written below, and every metric name the dashboard
//! uses is one Prometheus got from the agent, so the dashboard never names a metric that does
//! not exist.

#![cfg(native_linux)]

use hypermesh_testkit::{self as testing, prometheus::Prometheus};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Metrics that may have no series here, and why. Each is checked to be one the collectors
/// define (by its name in their source), since no scrape here shows it.
const KNOWN_EMPTY: &[(&str, &str)] = &[
    ("hypermesh_gpu_info", "no GPU on the test machine"),
    ("hypermesh_gpu_memory_total_bytes", "no GPU on the test machine"),
    ("hypermesh_gpu_ecc_errors_total", "NVIDIA GPUs only (NVML)"),
    ("hypermesh_gpu_retired_pages", "NVIDIA GPUs only (NVML)"),
    ("hypermesh_gpu_retired_pages_pending", "NVIDIA GPUs only (NVML)"),
    ("hypermesh_gpu_throttle_reason", "NVIDIA GPUs only (NVML), and only while one throttles"),
];

/// The `ebpf` collector's metrics: it loads programs, so they are empty when not root.
const EBPF: &[&str] =
    &["hypermesh_ebpf_runqueue_latency_seconds_bucket", "hypermesh_ebpf_block_io_latency_seconds_bucket"];

/// What Grafana's `$__rate_interval` becomes: a few of the test's 1 s scrape intervals.
const RATE_WINDOW: &str = "5s";

/// `hypermesh serve`, killed on drop.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn dashboard() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/grafana/hypermesh.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every `expr` in the dashboard, in order, with its panel's title.
fn expressions(value: &serde_json::Value, title: &str, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            let title = map.get("title").and_then(|t| t.as_str()).unwrap_or(title);
            if let Some(expr) = map.get("expr").and_then(|e| e.as_str()) {
                out.push((title.to_string(), expr.to_string()));
            }
            map.values().for_each(|v| expressions(v, title, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| expressions(v, title, out)),
        _ => {}
    }
}

/// The `hypermesh_*` metric names in a PromQL expression.
fn metric_names(expr: &str) -> Vec<&str> {
    expr.match_indices("hypermesh_")
        .map(|(at, _)| {
            let rest = &expr[at..];
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

/// The node picker's queries, `label_values(METRIC, LABEL)`, as PromQL.
fn variable_queries(dashboard: &serde_json::Value) -> Vec<(String, String)> {
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    let picker = variables.iter().find(|v| v["name"] == "instance").expect("an instance variable");
    let query = picker["definition"].as_str().unwrap();
    let args = query.strip_prefix("label_values(").and_then(|q| q.strip_suffix(')')).unwrap();
    let (metric, label) = args.split_once(',').unwrap();
    vec![("node picker".to_string(), format!("count by ({}) ({metric})", label.trim()))]
}

#[test]
fn every_dashboard_query_returns_data_from_a_real_scrape() {
    let dashboard = dashboard();
    assert_eq!(dashboard["schemaVersion"], 39);
    let mut queries = Vec::new();
    expressions(&dashboard["panels"], "", &mut queries);
    assert!(queries.len() > 30, "{} queries", queries.len());

    let root = testing::is_root();
    let collectors =
        if root { "inventory,usage,assets,health,ebpf" } else { "inventory,usage,assets,health" };
    if !root {
        testing::skip("the eBPF heatmaps need the ebpf collector, which needs root; checking the rest");
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let state = tempfile::tempdir().unwrap();
    // One allocation in the ledger, so that the allocation panels have one to show.
    let allocate = Command::new(env!("CARGO_BIN_EXE_hypermesh"))
        .args(["assets", "allocate", "--kind", "memory", "--count", "64MiB", "--holder", "dashboard"])
        .args(["--for", "1h", "--state-dir"])
        .arg(state.path())
        .output()
        .unwrap();
    assert!(allocate.status.success(), "{}", String::from_utf8_lossy(&allocate.stderr));
    let _serve = Serve(
        Command::new(env!("CARGO_BIN_EXE_hypermesh"))
            .args(["serve", "--listen", &addr.to_string(), "--collectors", collectors])
            .arg("--state-dir")
            .arg(state.path())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let Some(prometheus) = Prometheus::start(addr) else { return };
    prometheus.wait_for("hypermesh_cpu_logical_cpus", Duration::from_secs(60));
    // Disk I/O for the block latency histogram, while rate() windows fill with samples.
    let disk = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    for i in 0..8 {
        let file = disk.path().join(i.to_string());
        std::fs::write(&file, vec![i as u8; 1 << 16]).unwrap();
        std::fs::File::open(&file).unwrap().sync_all().unwrap();
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(prometheus.value(&format!("up{{instance=\"{addr}\"}}")), Some(1.0), "agent scraped");

    let scraped = prometheus.metric_names().unwrap();
    let defined = collector_sources();
    let known_empty = |name: &str| -> Option<String> {
        if let Some((_, why)) = KNOWN_EMPTY.iter().find(|(n, _)| *n == name) {
            return Some(why.to_string());
        }
        (!root && EBPF.contains(&name)).then(|| "the ebpf collector needs root".to_string())
    };
    for (name, _) in KNOWN_EMPTY {
        let stem = name.trim_start_matches("hypermesh_").trim_end_matches("_total");
        assert!(defined.contains(&format!("\"{stem}\"")), "{name}: no collector defines it");
    }

    queries.extend(variable_queries(&dashboard));
    let mut empty = Vec::new();
    for (panel, expr) in &queries {
        for name in metric_names(expr) {
            assert!(
                scraped.iter().any(|s| s == name) || known_empty(name).is_some(),
                "panel {panel:?}: {name} is not in the agent's /metrics"
            );
        }
        let expr = expr.replace("$__rate_interval", RATE_WINDOW).replace("$instance", &addr.to_string());
        let result = prometheus.query(&expr).unwrap_or_else(|e| panic!("panel {panel:?}: {expr}: {e}"));
        if result.as_array().is_some_and(|series| !series.is_empty()) {
            continue;
        }
        let why = metric_names(&expr).into_iter().find_map(known_empty);
        let why = why.unwrap_or_else(|| panic!("panel {panel:?}: no data for {expr}"));
        empty.push(format!("{panel}: {why}"));
    }
    eprintln!("{} queries checked, {} known-empty here:", queries.len(), empty.len());
    empty.iter().for_each(|e| eprintln!("  {e}"));
}

/// The collectors' source, where every metric name is a string literal.
fn collector_sources() -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../hypermesh-server/src/collectors");
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect()
}
