//! A real Prometheus server (Debian package `prometheus`) scrapes the agent on loopback every
//! second; after two scrape intervals its query API must return the profile's CPU count and
//! MemTotal. The server is stopped and its data directory removed afterwards.

#![cfg(native_linux)]

mod common;

use common::{Running, live_profile, sample_profile};
use hypermesh_os::HostProfile;
use hypermesh_testkit as testing;
use hypermesh_testkit::prometheus::Prometheus;
use std::time::Duration;

/// Serves `profile`, lets Prometheus scrape it, returns (logical CPUs, MemTotal) as queried.
fn scraped_values(profile: HostProfile) -> Option<(f64, f64)> {
    let agent = Running::plain(profile);
    let prometheus = Prometheus::start(agent.addr)?;
    // Wait for the first sample, then two more scrape intervals.
    prometheus.wait_for("hypermesh_cpu_logical_cpus", Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(prometheus.value("up"), Some(1.0), "scrape target up");
    let cpus = prometheus.value("hypermesh_cpu_logical_cpus").unwrap();
    let memory = prometheus.value("hypermesh_memory_total_bytes").unwrap();
    // min over every collector but `assets` (no asset view in this test): all succeeded.
    let success = r#"min(hypermesh_scrape_collector_success{collector!="assets"})"#;
    assert_eq!(prometheus.value(success), Some(1.0));
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
