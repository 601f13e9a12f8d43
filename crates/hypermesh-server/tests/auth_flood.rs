//! A wrong-password flood (issue 17: 40 clients grew the server to 52 threads and slowed valid
//! scrapes; 8 here, as each check takes a second of this loaded debug build): bcrypt work stays
//! within the workers' bound, and a scraper whose login was verified once, and `/healthz`,
//! keep answering. Alone in its binary: it counts the threads of
//! its own process.

#![cfg(native_linux)]

mod common;

use common::flood;
use common::{Running, sample_profile};
use hypermesh_server::config::WebConfig;
use hypermesh_server::server::Limits;
use std::path::Path;
use std::time::{Duration, Instant};

/// Cost 10, password "s3cret" (made with the bcrypt crate).
const HASH: &str = "$2b$10$xIWWJ0jSKnzmThAZ1wobBendTVgMU2BQjFKWoNEM3hQOqJDXBlAB2";
/// prometheus:s3cret
const GOOD: &str = "Authorization: Basic cHJvbWV0aGV1czpzM2NyZXQ=";
/// prometheus:wrong
const WRONG: &str = "Authorization: Basic cHJvbWV0aGV1czp3cm9uZw==";

/// Threads of this process named by tokio's blocking pool.
fn blocking_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim() == "tokio-rt-worker")
        .count()
}

#[test]
fn wrong_password_flood_is_bounded() {
    let web = WebConfig::parse(
        &format!("basic_auth_users:\n  prometheus: '{HASH}'\n"),
        Path::new("web.yml"),
        Path::new("."),
    )
    .unwrap();
    let limits = Limits::default();
    let workers = limits.workers;
    let server = Running::start(sample_profile(), web, limits);
    let addr = server.addr;
    // The scraper's login is verified once, then remembered.
    assert_eq!(flood::timed_get(addr, "/metrics", &[GOOD]).unwrap().0, 200);

    let flooding = Instant::now();
    let clients: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || flood::timed_get(addr, "/metrics", &[WRONG]).map(|(status, _)| status))
        })
        .collect();
    let mut most = 0;
    let mut scrapes = Vec::new();
    while !clients.iter().all(|c| c.is_finished()) {
        most = most.max(blocking_threads());
        scrapes.push(flood::timed_get(addr, "/metrics", &[GOOD]).unwrap());
        scrapes.push(flood::timed_get(addr, "/healthz", &[]).unwrap());
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = flooding.elapsed();
    for client in clients {
        assert_eq!(client.join().unwrap().unwrap(), 401);
    }
    println!(
        "8 wrong passwords in {took:?}; at most {most} blocking threads ({workers} workers); {} answers during the flood, slowest {:?}",
        scrapes.len(),
        scrapes.iter().map(|(_, d)| *d).max().unwrap_or_default()
    );
    // bcrypt checks and source-reading handlers, `workers` of each.
    assert!(most <= 2 * workers, "{most} blocking threads for {workers} workers");
    assert!(!scrapes.is_empty(), "the flood ended before a scrape ran");
    for (status, took) in scrapes {
        assert_eq!(status, 200);
        assert!(took < Duration::from_secs(1), "a valid scrape took {took:?} during the flood");
    }
}
