//! Load test (issue 17): 64 and 500 stuck connections (half-sent headers, pipelined requests
//! never read; over TLS, handshakes never started) while `/healthz` and `/metrics` keep
//! answering, each within 1 s. Loopback only, bounded in count and time. The figures of a
//! release `hypermesh serve` come from `scripts/serve-stuck.sh`.

#![cfg(native_linux)]

mod common;

use common::flood::{self, Stuck};
use common::{Running, sample_profile, self_signed};
use hypermesh_server::config::WebConfig;
use hypermesh_server::server::Limits;
use std::time::Duration;

const BOUND: Duration = Duration::from_secs(1);

/// Opens `count` stuck connections of `kinds`, then times 10 rounds of `/healthz` and
/// `/metrics` by `get`, each a new connection.
fn lock_out_attempt(
    addr: std::net::SocketAddr,
    what: &str,
    count: usize,
    kinds: &[Stuck],
    get: impl Fn(&str) -> std::io::Result<(u16, Duration)>,
) {
    let stuck = flood::open(addr, count, kinds).unwrap();
    let latencies = flood::latencies(&["/healthz", "/metrics"], 10, get)
        .unwrap_or_else(|e| panic!("{what}, {count} stuck connections: {e}"));
    for path in ["/healthz", "/metrics"] {
        let (median, max) = flood::summary(&latencies, path);
        println!("{what}, {count} stuck: {path} median {median:?}, max {max:?}");
        assert!(max < BOUND, "{what}, {count} stuck connections: {path} took {max:?}");
    }
    drop(stuck);
}

#[test]
fn stuck_connections_lock_nobody_out() {
    flood::raise_fd_limit();
    let kinds = [Stuck::HalfHeaders, Stuck::Pipelined];
    for count in [64, 500] {
        let server = Running::start(sample_profile(), WebConfig::default(), Limits::default());
        lock_out_attempt(server.addr, "HTTP", count, &kinds, |path| flood::timed_get(server.addr, path, &[]));
    }
    let pki = self_signed();
    for count in [64, 500] {
        let server = Running::start(sample_profile(), pki.web_config(), Limits::default());
        lock_out_attempt(server.addr, "TLS", count, &[Stuck::Silent], |path| {
            pki.timed_get(server.addr, path)
        });
    }
}
