//! Times `/healthz` and `/metrics` of a running `hypermesh serve` while COUNT connections are
//! stuck (half-sent headers and pipelined requests never read, alternately), as
//! `tests/stuck.rs` does in-process. Loopback only; stops by itself.
//!
//! `cargo run --release -p hypermesh-server --example serve_stuck -- 127.0.0.1:PORT COUNT [ROUNDS]`
//! (used by `scripts/serve-stuck.sh`).

#[cfg(native_linux)]
#[path = "../tests/common/flood.rs"]
mod flood;

#[cfg(native_linux)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    use flood::Stuck;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: serve_stuck 127.0.0.1:PORT COUNT [ROUNDS]";
    let addr: std::net::SocketAddr = args.first().ok_or(usage)?.parse()?;
    if !addr.ip().is_loopback() {
        return Err("loopback addresses only".into());
    }
    let count: usize = args.get(1).ok_or(usage)?.parse()?;
    let rounds: usize = args.get(2).map_or(Ok(50), |r| r.parse())?;
    flood::raise_fd_limit();
    let start = std::time::Instant::now();
    let stuck = flood::open(addr, count, &[Stuck::HalfHeaders, Stuck::Pipelined])?;
    let opened = start.elapsed();
    let latencies =
        flood::latencies(&["/healthz", "/metrics"], rounds, |path| flood::timed_get(addr, path, &[]))?;
    let still_open = stuck.iter().filter(|s| flood::pending_bytes(s).is_some()).count();
    for path in ["/healthz", "/metrics"] {
        let (median, max) = flood::summary(&latencies, path);
        println!(
            "{count:>4} stuck: {path:<9} median {:>7.2} ms, max {:>7.2} ms ({rounds} requests)",
            median.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3
        );
    }
    println!("{count:>4} stuck: opened in {opened:.2?}; {still_open} still open at the end (the rest shed)");
    Ok(())
}

#[cfg(not(native_linux))]
fn main() {
    eprintln!("serve_stuck: needs the native Linux build (the server is Linux-only)");
}
