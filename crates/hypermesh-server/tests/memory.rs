//! Memory stays bounded under many requests, bad ones included (alone in its binary so that
//! other tests' threads do not move the process's RSS).

#![cfg(native_linux)]

mod common;

use common::{Running, get, get_with, raw, rss_bytes, sample_profile};

fn abuse(addr: std::net::SocketAddr, rounds: usize) {
    let big = format!("X-Big: {}", "a".repeat(16 << 10));
    for _ in 0..rounds {
        assert_eq!(get(addr, "/metrics").status, 200);
        assert_eq!(get(addr, "/v1/profile").status, 200);
        assert_eq!(get(addr, "/nope").status, 404);
        assert_eq!(get_with(addr, "/metrics", &[&big]).status, 431);
        assert_eq!(
            raw(addr, b"PUT /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap().status,
            405
        );
    }
}

#[test]
fn rss_stays_bounded() {
    let server = Running::plain(sample_profile());
    abuse(server.addr, 200);
    let before = rss_bytes();
    abuse(server.addr, 1000);
    let after = rss_bytes();
    let growth = after.saturating_sub(before);
    assert!(growth < 2 << 20, "RSS grew by {growth} bytes over 5000 requests ({before} -> {after})");
}
