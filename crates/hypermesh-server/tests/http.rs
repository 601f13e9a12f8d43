//! The HTTP face: routes and status codes, promtool, limits against bad clients, concurrency,
//! basic auth, TLS and config validation.

#![cfg(native_linux)]

mod common;

use common::{Running, flood, get, get_with, raw, sample_profile, self_signed};
use hypermesh_assets::{
    AssetKind, AssetManager, Config, HostView, Inventory, LEDGER_FILE, Ledger, LiveState, Request,
    default_adapters,
};
use hypermesh_server::config::WebConfig;
use hypermesh_server::server::{Limits, Listen, Server};
use hypermesh_server::sources::AssetsSource;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// Value of an unlabelled or labelled sample line, by its exact prefix up to the value.
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn metrics_pass_promtool_and_match_the_profile() {
    let server = Running::plain(sample_profile());
    let response = get(server.addr, "/metrics");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    let body = &response.body;
    assert_eq!(sample(body, "hypermesh_cpu_logical_cpus"), Some(128.0));
    assert_eq!(sample(body, "hypermesh_cpu_packages"), Some(2.0));
    assert_eq!(sample(body, "hypermesh_memory_total_bytes"), Some(270_000_000_000.0));
    assert_eq!(sample(body, "hypermesh_cpu_frequency_max_hertz"), Some(3.2e9));
    assert_eq!(
        sample(body, r#"hypermesh_cpu_cache_size_bytes{level="3",type="unified",cpus="0-127"}"#),
        Some(50_331_648.0)
    );
    assert_eq!(sample(body, r#"hypermesh_network_interface_speed_bytes{interface="eth0"}"#), Some(3.125e9));
    assert_eq!(
        sample(body, r#"hypermesh_gpu_memory_total_bytes{pci_address="0000:17:00.0"}"#),
        Some(85_520_809_984.0)
    );
    assert_eq!(sample(body, r#"hypermesh_scrape_collector_success{collector="inventory"}"#), Some(1.0));
    assert!(
        body.contains(r#"model="Intel(R) Xeon(R) \"Gold\" 6338\\ CPU\n@ 2.00GHz""#),
        "label escaping:\n{body}"
    );
    assert!(!body.contains("utilization"), "no stale live values from the cached profile");

    common::promtool_check_metrics(body);
}

/// Idle seconds of all CPUs from /proc/stat (USER_HZ = 100 on the machines CI runs on).
fn idle_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let ticks: f64 = stat.lines().next().unwrap().split_whitespace().nth(4).unwrap().parse().unwrap();
    ticks / 100.0
}

#[test]
fn usage_assets_and_probe_routes_and_metrics() {
    let profile = sample_profile();
    let tmp = tempfile::tempdir().unwrap();
    let live = LiveState::default();
    let config = Config::default();
    let inventory = Inventory::collect(
        &default_adapters(),
        &HostView { profile: &profile, live: &live, config: &config },
    );
    let source = AssetsSource::new(inventory, tmp.path().join(LEDGER_FILE));
    let server =
        Running::with_sources(common::sources(profile, Ok(source)), WebConfig::default(), Limits::default());

    let before = idle_seconds();
    let metrics = get(server.addr, "/metrics").body;
    let after = idle_seconds();
    let idle = sample(&metrics, r#"hypermesh_cpu_seconds_total{cpu="all",mode="idle"}"#).unwrap();
    // The server turns ticks into seconds its own way: the last bit may differ.
    let slack = 1e-9 * after;
    assert!((before - slack..=after + slack).contains(&idle), "{before} <= {idle} <= {after}");
    for collector in ["inventory", "usage", "assets"] {
        let series = format!(r#"hypermesh_scrape_collector_success{{collector="{collector}"}}"#);
        assert_eq!(sample(&metrics, &series), Some(1.0), "{collector}:\n{metrics}");
    }
    assert_eq!(sample(&metrics, r#"hypermesh_usage_source_up{source="stat"}"#), Some(1.0));
    let gpu = r#"{asset="gpu:pci-0000:17:00.0",kind="gpu",numa="",unit="gpus"}"#;
    assert_eq!(sample(&metrics, &format!("hypermesh_asset_capacity{gpu}")), Some(1.0), "{metrics}");
    assert_eq!(sample(&metrics, &format!("hypermesh_asset_allocated{gpu}")), Some(0.0));
    let memory = r#"{asset="memory:host",kind="memory",numa="",unit="bytes"}"#;
    assert_eq!(sample(&metrics, &format!("hypermesh_asset_capacity{memory}")), Some(270e9));

    let usage = get(server.addr, "/v1/usage");
    assert_eq!((usage.status, usage.header("content-type")), (200, Some("application/json")));
    let usage: serde_json::Value = serde_json::from_str(&usage.body).unwrap();
    assert!(usage["interval_seconds"].as_f64().unwrap() > 0.0, "{usage}");
    assert!(usage["cpu"]["per_cpu"].as_array().is_some_and(|c| !c.is_empty()), "{usage}");
    assert!(usage["memory"]["available_bytes"].as_u64().is_some(), "{usage}");

    let assets = get(server.addr, "/v1/assets");
    assert_eq!(assets.status, 200, "{assets:?}");
    let assets: serde_json::Value = serde_json::from_str(&assets.body).unwrap();
    let ids: Vec<&str> =
        assets["assets"].as_array().unwrap().iter().filter_map(|a| a["id"].as_str()).collect();
    assert!(ids.contains(&"gpu:pci-0000:17:00.0") && ids.contains(&"memory:host"), "{ids:?}");
    assert_eq!(assets["allocations"], serde_json::json!([]));

    // An allocation made by another process (here: this one) shows on the next read.
    let view = Inventory::collect(
        &default_adapters(),
        &HostView { profile: &sample_profile(), live: &live, config: &config },
    );
    let ledger = Ledger::open_wait(&tmp.path().join(LEDGER_FILE), Duration::from_secs(5)).unwrap();
    let (manager, _) = AssetManager::open_inventory(&view, ledger).unwrap();
    let request = Request::new(AssetKind::Gpu, 1, "job-1", Duration::from_secs(3600));
    manager.allocate(&request).unwrap();
    drop(manager);
    let assets: serde_json::Value = serde_json::from_str(&get(server.addr, "/v1/assets").body).unwrap();
    assert_eq!(assets["allocations"][0]["holder"], "job-1", "{assets}");
    let metrics = get(server.addr, "/metrics").body;
    assert_eq!(sample(&metrics, &format!("hypermesh_asset_allocated{gpu}")), Some(1.0), "{metrics}");

    let probe = get(server.addr, "/v1/ebpf/probe");
    assert_eq!(probe.status, 200, "{probe:?}");
    let probe: serde_json::Value = serde_json::from_str(&probe.body).unwrap();
    assert_eq!(
        probe["kernel"]["release"].as_str(),
        std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().as_deref().map(str::trim)
    );

    // Without an asset view: 503 with the reason, and the collector fails alone.
    let bare = Running::plain(sample_profile());
    let refused = get(bare.addr, "/v1/assets");
    assert_eq!(refused.status, 503);
    assert!(refused.body.contains("no asset view"), "{refused:?}");
    let metrics = get(bare.addr, "/metrics").body;
    assert_eq!(sample(&metrics, r#"hypermesh_scrape_collector_success{collector="assets"}"#), Some(0.0));
    assert_eq!(sample(&metrics, r#"hypermesh_scrape_collector_success{collector="usage"}"#), Some(1.0));
}

#[test]
fn openmetrics_when_asked_for() {
    let server = Running::plain(sample_profile());
    let response =
        get_with(server.addr, "/metrics", &["Accept: application/openmetrics-text;version=1.0.0,*/*;q=0.1"]);
    assert_eq!(response.status, 200);
    assert!(response.header("content-type").unwrap().starts_with("application/openmetrics-text"));
    assert!(response.body.ends_with("# EOF\n"), "{}", response.body);
}

#[test]
fn routes_and_status_codes() {
    let profile = sample_profile();
    let server = Running::plain(profile.clone());
    let health = get(server.addr, "/healthz");
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    let index = get(server.addr, "/");
    assert!(index.status == 200 && index.body.contains("collectors: inventory"), "{index:?}");

    let json = get(server.addr, "/v1/profile");
    assert_eq!(json.status, 200);
    assert_eq!(json.header("content-type"), Some("application/json"));
    assert_eq!(
        json.body,
        format!("{}\n", serde_json::to_string_pretty(&profile).unwrap()),
        "same JSON as the CLI"
    );
    let back: hypermesh_os::HostProfile = serde_json::from_str(&json.body).unwrap();
    assert_eq!(back, profile);

    for path in ["/nope", "/v1/usages", "/metrics/extra", "/%ff"] {
        assert_eq!(get(server.addr, path).status, 404, "{path}");
    }
    let post = raw(
        server.addr,
        b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    assert_eq!(post.status, 405);
    assert!(post.header("allow").is_some_and(|a| a.contains("GET")), "{post:?}");
    let delete =
        raw(server.addr, b"DELETE /v1/profile HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    assert_eq!(delete.status, 405);
    let garbage = raw(server.addr, b"\x16\x03\x01 not http at all\r\n\r\n").unwrap();
    assert_eq!(garbage.status, 400);
}

#[test]
fn oversized_headers_get_431() {
    let server = Running::plain(sample_profile());
    let big = format!("X-Big: {}", "a".repeat(20 << 10));
    assert_eq!(get_with(server.addr, "/metrics", &[&big]).status, 431);
    let many: Vec<String> = (0..200).map(|i| format!("X-H{i}: {i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(get_with(server.addr, "/metrics", &many).status, 431, "more headers than allowed");
    assert_eq!(get(server.addr, "/healthz").status, 200, "server still serves");
}

/// True when the server closed the connection (EOF or reset) within `limit`.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // a 408 or similar before closing is fine
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn slow_and_idle_clients_are_dropped_and_do_not_block_others() {
    let limits =
        Limits { header_read_timeout: Duration::from_secs(1), max_connections: 4, ..Limits::default() };
    let server = Running::start(sample_profile(), WebConfig::default(), limits);

    // Slowloris: a header line every 300 ms, never finishing the request head.
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n").unwrap();
    let start = Instant::now();
    let mut dropped = false;
    while start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(300));
        if slow.write_all(b"X-Slow: 1\r\n").is_err() {
            dropped = true;
            break;
        }
        let mut probe = slow.try_clone().unwrap();
        if closed_within(&mut probe, Duration::from_millis(10)) {
            dropped = true;
            break;
        }
    }
    assert!(dropped, "a client trickling its headers was not dropped after 5 s");

    // Idle connections that never send anything, as many as the connection limit.
    let mut idle: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(server.addr).unwrap()).collect();
    let start = Instant::now();
    let response = get(server.addr, "/healthz");
    assert_eq!(response.status, 200);
    assert!(start.elapsed() < Duration::from_secs(4), "waited {:?} behind idle connections", start.elapsed());
    for stream in &mut idle {
        assert!(closed_within(stream, Duration::from_secs(3)), "idle connection kept open");
    }
}

#[test]
fn fifty_concurrent_scrapes() {
    let server = Running::plain(sample_profile());
    let addr = server.addr;
    let threads: Vec<_> = (0..50).map(|_| std::thread::spawn(move || get(addr, "/metrics"))).collect();
    // Families, and the inventory's samples (usage values move between scrapes).
    let strip = |body: &str| {
        let usage_starts = body.find("# HELP hypermesh_cpu_seconds_total").expect("usage families");
        let inventory = &body[..usage_starts];
        let families = body[usage_starts..].lines().filter(|l| l.starts_with('#'));
        inventory.lines().chain(families).collect::<Vec<_>>().join("\n")
    };
    let first = strip(&get(addr, "/metrics").body);
    for t in threads {
        let response = t.join().unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(strip(&response.body), first);
    }
}

#[test]
fn basic_auth() {
    let dir = tempfile::tempdir().unwrap();
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    let config = format!("basic_auth_users:\n  prometheus: '{hash}'\n");
    let web = WebConfig::parse(&config, Path::new("web.yml"), dir.path()).unwrap();
    let server = Running::start(sample_profile(), web, Limits::default());
    let none = get(server.addr, "/metrics");
    assert_eq!(none.status, 401);
    assert_eq!(none.header("www-authenticate"), Some("Basic realm=\"hypermesh\""));
    // prometheus:wrong
    assert_eq!(
        get_with(server.addr, "/metrics", &["Authorization: Basic cHJvbWV0aGV1czp3cm9uZw=="]).status,
        401
    );
    // prometheus:s3cret
    let ok = get_with(server.addr, "/metrics", &["Authorization: Basic cHJvbWV0aGV1czpzM2NyZXQ="]);
    assert_eq!(ok.status, 200);
    assert!(ok.body.contains("hypermesh_cpu_cores 64"));
    for path in ["/", "/v1/profile", "/v1/usage", "/v1/assets", "/v1/ebpf/probe", "/nope", "/healthz/x"] {
        assert_eq!(get(server.addr, path).status, 401, "{path} is protected");
    }
    // Liveness probes cannot easily send credentials, and learn nothing but "ok".
    let health = get(server.addr, "/healthz");
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    let head = raw(server.addr, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    assert_eq!((head.status, head.body.as_str()), (200, ""));
}

#[test]
fn tls_serves_https_and_refuses_plain_http() {
    let pki = self_signed();
    let server = Running::start(sample_profile(), pki.web_config(), Limits::default());

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let body = rt.block_on(async {
        use rustls::pki_types::ServerName;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let connector = tokio_rustls::TlsConnector::from(pki.client_config());
        let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let mut tls = connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await.unwrap();
        tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = Vec::new();
        tls.read_to_end(&mut out).await.unwrap();
        out
    });
    let response = common::parse(&body).unwrap();
    assert_eq!((response.status, response.body.as_str()), (200, "ok\n"));
    assert!(
        raw(server.addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").is_err(),
        "plain HTTP on the TLS port"
    );
}

#[test]
fn bad_web_configs_are_refused_with_a_clear_message() {
    let pki = self_signed();
    let other = self_signed();
    std::fs::copy(other.dir.path().join("server.key"), pki.dir.path().join("other.key")).unwrap();
    let base = pki.dir.path();
    let check = |text: &str, expected: &str| {
        let err = WebConfig::parse(text, Path::new("/etc/hypermesh/web.yml"), base).unwrap_err().to_string();
        assert!(err.contains(expected), "{text:?}: {err:?} lacks {expected:?}");
    };
    check(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  cipher_suites: [x]\n",
        "cipher_suites",
    );
    check("basic_auth_user:\n  a: b\n", "unknown field `basic_auth_user`");
    check("basic_auth_users:\n  alice: plaintext\n", "alice: not a bcrypt hash");
    // A cost-31 hash would pin a core per check for days: refused at load, 14 still taken.
    let cost4 = bcrypt::hash("pw", 4).unwrap();
    check(
        &format!("basic_auth_users:\n  alice: '{}'\n", cost4.replacen("$04$", "$31$", 1)),
        "alice: bcrypt cost 31 is above the maximum of 14",
    );
    check(&format!("basic_auth_users:\n  alice: '{}'\n", cost4.replacen("$04$", "$15$", 1)), "cost 15");
    let cost14 = format!("basic_auth_users:\n  alice: '{}'\n", cost4.replacen("$04$", "$14$", 1));
    assert!(WebConfig::parse(&cost14, Path::new("web.yml"), base).is_ok());
    check("tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n", "missing.crt");
    check("tls_server_config:\n  cert_file: server.crt\n  key_file: other.key\n", "do not go together");
    check(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS11\n",
        "TLS11",
    );
    check(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n",
        "needs client_ca_file",
    );
    check("tls_server_config: [\n", "/etc/hypermesh/web.yml");
    let empty = WebConfig::parse("", Path::new("web.yml"), base).unwrap();
    assert!(empty.tls.is_none() && empty.basic_auth_users.is_empty());
    let mtls = format!(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS13\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {}\n",
        other.dir.path().join("server.crt").display()
    );
    assert!(WebConfig::parse(&mtls, Path::new("web.yml"), base).unwrap().tls.is_some());
}

#[test]
fn a_private_key_others_may_read_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let pki = self_signed();
    let key = pki.dir.path().join("server.key");
    assert_eq!(pki.web_config().warnings, Vec::<String>::new(), "mode 0600");
    for (mode, who) in [(0o644, "every user of this host"), (0o640, "its group")] {
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).unwrap();
        let warnings = pki.web_config().warnings;
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains(&format!("server.key: private key is readable by {who} (mode 0{mode:o})")),
            "{warnings:?}"
        );
        assert!(warnings[0].contains("chmod 600"), "{warnings:?}");
    }
}

#[test]
fn listen_on_all_addresses_takes_ipv4_and_ipv6() {
    assert_eq!(":9469".parse::<Listen>().unwrap(), Listen::AllAddresses(9469));
    assert_eq!("[::1]:80".parse::<Listen>().unwrap(), Listen::Addr("[::1]:80".parse().unwrap()));
    assert_eq!(Listen::AllAddresses(9469).to_string(), ":9469");
    for bad in ["9469", ":", ":http", ":65536", "localhost:9469", "1.2.3.4"] {
        let err = bad.parse::<Listen>().unwrap_err().to_string();
        assert!(err.contains(":PORT for every address"), "{bad}: {err}");
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let app = || {
        let sources = common::sources(sample_profile(), Err("not in this test".into()));
        hypermesh_server::http::App::new(hypermesh_server::collector::Scraper::new(Vec::new()), sources)
            .unwrap()
    };
    let server = rt
        .block_on(Server::bind(Listen::AllAddresses(0), app(), &WebConfig::default(), Limits::default()))
        .unwrap();
    let port = server.local_addr().unwrap().port();
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok(), "IPv4");
    if std::path::Path::new("/proc/net/if_inet6").exists() {
        assert!(TcpStream::connect(("::1", port)).is_ok(), "IPv6");
    }
}

#[test]
fn new_clients_evict_the_stalest_connections_instead_of_waiting() {
    // Long header timeout: only eviction can make room.
    let limits =
        Limits { max_connections: 4, header_read_timeout: Duration::from_secs(60), ..Limits::default() };
    let server = Running::start(sample_profile(), WebConfig::default(), limits);
    let idle: Vec<TcpStream> = (0..10).map(|_| TcpStream::connect(server.addr).unwrap()).collect();
    let (status, took) = flood::timed_get(server.addr, "/healthz", &[]).unwrap();
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(1), "waited {took:?} behind idle connections");
    // The server holds at most 4: the newest 3 idle ones and none of the first 7.
    for (i, stream) in idle.iter().enumerate() {
        let closed = flood::closed_within(stream, Duration::from_millis(if i < 7 { 2000 } else { 300 }));
        assert_eq!(closed, i < 7, "idle connection {i} of 10");
    }
}

#[test]
fn a_client_that_never_reads_its_replies_is_closed_after_the_write_timeout() {
    let limits = Limits { write_timeout: Duration::from_secs(1), ..Limits::default() };
    let server = Running::start(sample_profile(), WebConfig::default(), limits);
    let start = Instant::now();
    let stuck = flood::stuck(server.addr, flood::Stuck::Pipelined).unwrap();
    // Its 64 pipelined scrapes (about 1.5 MB of replies) stall after the first few.
    std::thread::sleep(Duration::from_secs(2));
    assert!(flood::closed_within(&stuck, Duration::from_secs(5)), "still open after {:?}", start.elapsed());
    assert_eq!(get(server.addr, "/healthz").status, 200);
}

#[test]
fn graceful_stop_closes_the_port() {
    let server = Running::plain(sample_profile());
    let addr = server.addr;
    assert_eq!(get(addr, "/healthz").status, 200);
    let idle = TcpStream::connect(addr).unwrap();
    let start = Instant::now();
    server.stop();
    assert!(start.elapsed() < Duration::from_secs(7), "stop took {:?}", start.elapsed());
    assert!(TcpStream::connect(addr).is_err(), "still accepting after stop");
    drop(idle);
}
