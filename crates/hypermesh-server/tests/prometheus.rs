//! A real Prometheus server (Debian package `prometheus`) scrapes the agent on loopback every
//! second; after two scrape intervals its query API must return the profile's CPU count and
//! MemTotal. The server is stopped and its data directory removed afterwards.

#![cfg(native_linux)]

mod common;

use common::{Running, live_profile, raw, sample_profile, which};
use hypermesh_os::{HostProfile, testing};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A Prometheus process, killed on drop; its temporary directory (config and TSDB) goes with it.
struct Prometheus {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_prometheus(binary: &std::path::Path, target: SocketAddr) -> Prometheus {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: hypermesh\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address={addr}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Prometheus { child, addr, _dir: dir }
}

/// The single value of an instant query, once Prometheus has one.
fn query(prometheus: SocketAddr, expr: &str) -> Option<f64> {
    let request =
        format!("GET /api/v1/query?query={expr} HTTP/1.1\r\nHost: {prometheus}\r\nConnection: close\r\n\r\n");
    let response = raw(prometheus, request.as_bytes()).ok()?;
    let json: serde_json::Value = serde_json::from_str(&response.body).ok()?;
    json["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

/// Serves `profile`, lets Prometheus scrape it, returns (logical CPUs, MemTotal) as queried.
fn scraped_values(profile: HostProfile) -> Option<(f64, f64)> {
    let Some(binary) = which("prometheus") else {
        testing::skip("prometheus not installed (Debian package prometheus)");
        return None;
    };
    let agent = Running::plain(profile);
    let prometheus = start_prometheus(&binary, agent.addr);
    let start = Instant::now();
    // Wait for the first sample, then two more scrape intervals.
    while query(prometheus.addr, "hypermesh_cpu_logical_cpus").is_none() {
        assert!(start.elapsed() < Duration::from_secs(60), "Prometheus got no sample within 60 s");
        std::thread::sleep(Duration::from_millis(250));
    }
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(query(prometheus.addr, "up"), Some(1.0), "scrape target up");
    let cpus = query(prometheus.addr, "hypermesh_cpu_logical_cpus").unwrap();
    let memory = query(prometheus.addr, "hypermesh_memory_total_bytes").unwrap();
    // min over every collector but `assets` (no asset view in this test): all succeeded.
    let success = "min(hypermesh_scrape_collector_success%7Bcollector!%3D%22assets%22%7D)";
    assert_eq!(query(prometheus.addr, success), Some(1.0));
    Some((cpus, memory))
}

#[test]
fn prometheus_reads_the_live_profile() {
    let profile = live_profile();
    let (Some(cpu), Some(memory)) = (&profile.cpu, &profile.memory) else {
        let reasons: Vec<String> = profile.errors.iter().map(ToString::to_string).collect();
        return testing::skip(&format!(
            "live profile lacks the cpu or memory section: {}",
            reasons.join("; ")
        ));
    };
    let expected = (f64::from(cpu.logical_cpus), memory.total_bytes as f64);
    if let Some(values) = scraped_values(profile.clone()) {
        assert_eq!(values, expected);
    }
}

#[test]
fn prometheus_reads_a_hand_built_profile() {
    let profile = sample_profile();
    let expected = (
        f64::from(profile.cpu.as_ref().unwrap().logical_cpus),
        profile.memory.as_ref().unwrap().total_bytes as f64,
    );
    if let Some(values) = scraped_values(profile) {
        assert_eq!(values, expected);
    }
}
