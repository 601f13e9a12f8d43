//! `hypermesh serve` as a whole process with the `ebpf` collector: latency histograms in
//! `/metrics` that promtool accepts, and SIGTERM stops it with its programs detached.

#![cfg(native_linux)]

use hypermesh_testkit as testing;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the server if the test fails before stopping it.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    text.split_once("\r\n\r\n").map(|(_, body)| body.to_string())
}

/// Ids of loaded BPF programs whose name starts with `prefix`, per bpftool.
fn programs(prefix: &str) -> Vec<u64> {
    let out = Command::new("bpftool").args(["-j", "prog", "show"]).output().expect("bpftool");
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("bpftool JSON");
    let named = |p: &&serde_json::Value| p["name"].as_str().is_some_and(|n| n.starts_with(prefix));
    list.as_array().into_iter().flatten().filter(named).filter_map(|p| p["id"].as_u64()).collect()
}

#[test]
fn ebpf_histograms_then_sigterm_detaches() {
    if !testing::is_root() {
        return testing::skip("the ebpf collector loads programs: needs root");
    }
    if Command::new("bpftool").arg("version").output().is_err() {
        return testing::skip("bpftool not installed (Debian package bpftool)");
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let state = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_hypermesh"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--collectors", "usage,ebpf"])
        .arg("--state-dir")
        .arg(state.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let start = Instant::now();
    while get(port, "/healthz").is_none() {
        assert!(start.elapsed() < Duration::from_secs(30), "server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let ours = programs("hm_rq_");
    assert_eq!(ours.len(), 3, "runqlat's three programs loaded while serving");
    // Some scheduling and disk activity to observe.
    for _ in 0..20 {
        std::fs::write(state.path().join("touch"), [0u8; 4096]).unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
    let body = get(port, "/metrics").unwrap();
    assert!(body.contains("# TYPE hypermesh_ebpf_runqueue_latency_seconds histogram"), "{body}");
    let count = body
        .lines()
        .find_map(|l| l.strip_prefix("hypermesh_ebpf_runqueue_latency_seconds_count "))
        .and_then(|v| v.parse::<u64>().ok());
    assert!(count > Some(0), "runqlat counted nothing: {count:?}");
    assert!(body.contains(r#"hypermesh_ebpf_runqueue_latency_seconds_bucket{le="+Inf"}"#), "{body}");
    assert!(body.contains(r#"hypermesh_scrape_collector_success{collector="ebpf"} 1"#), "{body}");
    if let Ok(mut promtool) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        promtool.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
        let out = promtool.wait_with_output().unwrap();
        let report =
            String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && report.trim().is_empty(), "promtool:\n{report}");
    }

    testing::send_signal(server.0.id(), libc::SIGTERM);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "no exit within 15 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let start = Instant::now();
    while programs("hm_rq_").iter().any(|id| ours.contains(id)) {
        assert!(start.elapsed() < Duration::from_secs(10), "runqlat still loaded after the server stopped");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts `hypermesh serve` with these extra arguments on a free port; waits for `/healthz`.
fn serve(listen: impl FnOnce(u16) -> String, extra: &[&str], state: &std::path::Path) -> (Server, u16) {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_hypermesh"))
        .args(["serve", "--listen", &listen(port), "--collectors", "inventory"])
        .args(extra)
        .arg("--state-dir")
        .arg(state)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let start = Instant::now();
    while get(port, "/healthz").is_none() {
        assert!(start.elapsed() < Duration::from_secs(30), "server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, port)
}

/// Waits for the server to exit; its status and how long it took.
fn exit_within(server: &mut Server, limit: Duration) -> (std::process::ExitStatus, Duration) {
    let start = Instant::now();
    loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            return (status, start.elapsed());
        }
        assert!(start.elapsed() < limit, "no exit within {limit:?} of SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn listen_colon_port_is_every_address() {
    let state = tempfile::tempdir().unwrap();
    let (mut server, port) = serve(|port| format!(":{port}"), &[], state.path());
    assert_eq!(get(port, "/healthz").as_deref(), Some("ok\n"), "IPv4 loopback");
    if std::path::Path::new("/proc/net/if_inet6").exists() {
        assert!(TcpStream::connect(("::1", port)).is_ok(), "IPv6 loopback");
    }
    testing::send_signal(server.0.id(), libc::SIGTERM);
    assert!(exit_within(&mut server, Duration::from_secs(10)).0.success());
}

#[test]
fn sigterm_stops_promptly_while_passwords_are_being_checked() {
    let state = tempfile::tempdir().unwrap();
    let config = state.path().join("web.yml");
    // Cost 12, password "s3cret": most of a second per check in a release build, more here.
    std::fs::write(
        &config,
        "basic_auth_users:\n  prometheus: '$2b$12$jOiHtgPidi2SdGcJoxgwfu8KGfmNRY0hM.kXgtX64dH/Yy4VHzgL.'\n",
    )
    .unwrap();
    let (mut server, port) =
        serve(|port| format!("127.0.0.1:{port}"), &["--web-config", config.to_str().unwrap()], state.path());
    // Eight wrong passwords: checks running and queued when the signal comes.
    let clients: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
                s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
                // prometheus:wrong
                let request = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Basic cHJvbWV0aGV1czp3cm9uZw==\r\n\r\n";
                s.write_all(request.as_bytes()).ok()?;
                let mut text = String::new();
                s.read_to_string(&mut text).ok()?;
                Some(text)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    testing::send_signal(server.0.id(), libc::SIGTERM);
    let (status, took) = exit_within(&mut server, Duration::from_secs(15));
    println!("stopped {took:?} after SIGTERM");
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(3), "took {took:?} to stop while checking passwords");
    for client in clients {
        if let Some(text) = client.join().unwrap() {
            assert!(
                text.is_empty() || text.starts_with("HTTP/1.1 503") || text.starts_with("HTTP/1.1 401"),
                "{text}"
            );
        }
    }
}

#[test]
fn clients_closing_mid_reply_do_not_kill_the_server() {
    let state = tempfile::tempdir().unwrap();
    let (mut server, port) = serve(|port| format!("127.0.0.1:{port}"), &[], state.path());
    // Pipelined scrapes, what has arrived read, then a close while the server still writes:
    // its next writes meet a reset (EPIPE, and SIGPIPE unless ignored: exit status 141).
    for _ in 0..16 {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { break };
        let _ = s.write_all("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".repeat(64).as_bytes());
        std::thread::sleep(Duration::from_millis(50));
        s.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 65536];
        while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(server.0.try_wait().unwrap().is_none(), "the server died: {:?}", server.0.try_wait());
    assert_eq!(get(port, "/healthz").as_deref(), Some("ok\n"));
    testing::send_signal(server.0.id(), libc::SIGTERM);
    assert!(exit_within(&mut server, Duration::from_secs(10)).0.success());
}
