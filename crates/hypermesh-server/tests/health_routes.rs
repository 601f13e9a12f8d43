//! `/v1/health` and the health collector's `/metrics` section from a server reading
//! node_exporter's fixture tree; the exposition passes `promtool check metrics`.

#![cfg(native_linux)]

mod common;

use common::{Running, get, sample_profile};
use hypermesh_os::FsRoot;
use hypermesh_server::config::WebConfig;
use hypermesh_server::server::Limits;
use hypermesh_server::sources::Sources;
use hypermesh_testkit as testing;
use std::sync::Arc;

#[test]
fn health_route_and_metrics_on_the_fixture_tree() {
    let Some((_tmp, dir)) = testing::unpack_fixture("node_exporter") else { return };
    let root = FsRoot::new(&dir).unwrap();
    let sources =
        Arc::new(Sources::new(root, Arc::new(sample_profile()), Err("no asset view in this test".into())));
    let server = Running::with_sources(sources, WebConfig::default(), Limits::default());

    let response = get(server.addr, "/v1/health");
    assert_eq!(response.status, 200, "{}", response.body);
    let report: serde_json::Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(report["memory_controllers"][0]["uncorrectable_errors"], 5);
    assert_eq!(report["thermal_zones"][0]["temperature_celsius"], 12.376);

    let body = get(server.addr, "/metrics").body;
    for line in [
        r#"hypermesh_edac_uncorrectable_errors_total{controller="0"} 5.0"#,
        r#"hypermesh_health_state{subject="memory",device="mc0",state="failing"} 1.0"#,
        r#"hypermesh_health_state{subject="disk",device="nvme0",state="unavailable"} 1.0"#,
        r#"hypermesh_hwmon_temp_crit_celsius{chip="platform_coretemp_0",sensor="temp1"} 100.0"#,
        r#"hypermesh_scrape_collector_success{collector="health"} 1"#,
    ] {
        assert!(body.lines().any(|l| l == line), "{line} missing:\n{body}");
    }
    common::promtool_check_metrics(&body);
}
