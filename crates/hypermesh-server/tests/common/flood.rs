//! Hostile clients for load tests against a server on loopback, and a timed GET: shared by
//! `tests/stuck.rs` and `examples/serve_stuck.rs` (which times a running `hypermesh serve`).
//!
//! Two kinds of stuck connection, as issue 17 reproduced them:
//! - half-sent headers: a request line and a header, never the blank line that ends the head;
//! - pipelined requests never read: 64 `GET /metrics` in one write and a 4 KiB receive buffer,
//!   so that the server's replies fill it and its writes stall.

#![allow(dead_code)] // each user takes a different subset

use socket2::{Domain, Protocol, Socket, Type};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Which way a connection is stuck.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stuck {
    /// Connected, sends nothing (a TLS handshake that never starts).
    Silent,
    /// Request head never finished.
    HalfHeaders,
    /// Requests pipelined, replies never read.
    Pipelined,
}

/// Opens `count` stuck connections to `addr`, taking the kinds in turn. A connection the
/// server has already closed (evicted) is kept as it is: it is the server's choice.
pub fn open(addr: SocketAddr, count: usize, kinds: &[Stuck]) -> std::io::Result<Vec<TcpStream>> {
    (0..count).map(|i| stuck(addr, kinds[i % kinds.len()])).collect()
}

/// One stuck connection of this kind.
pub fn stuck(addr: SocketAddr, kind: Stuck) -> std::io::Result<TcpStream> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if kind == Stuck::Pipelined {
        socket.set_recv_buffer_size(4096)?;
    }
    socket.connect(&addr.into())?;
    let mut stream: TcpStream = socket.into();
    let request = match kind {
        Stuck::Silent => return Ok(stream),
        Stuck::HalfHeaders => "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Never-Ends: ".to_string(),
        Stuck::Pipelined => "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".repeat(64),
    };
    // The server may have closed it already (evicted for a newer one): not an error here.
    let _ = stream.write_all(request.as_bytes());
    Ok(stream)
}

/// Bytes the server has sent on `stream` so far, without waiting; `None` once it was closed.
pub fn pending_bytes(stream: &TcpStream) -> Option<usize> {
    let mut buf = [0u8; 4096];
    stream.set_nonblocking(true).ok()?;
    let mut total = 0;
    let open = loop {
        match (&*stream).read(&mut buf) {
            Ok(0) => break false,
            Ok(n) => total += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break true,
            Err(_) => break false,
        }
    };
    let _ = stream.set_nonblocking(false);
    open.then_some(total)
}

/// True when the server closed `stream` within `limit` (EOF or reset), reading and dropping
/// whatever it sent before.
pub fn closed_within(stream: &TcpStream, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if pending_bytes(stream).is_none() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// `GET path` on a new connection, with `Connection: close`; the status and the time from
/// connect to the last byte. Fails on no answer within 10 s.
pub fn timed_get(addr: SocketAddr, path: &str, headers: &[&str]) -> std::io::Result<(u16, Duration)> {
    let start = Instant::now();
    let mut stream = connect(addr)?;
    let status = exchange(&mut stream, path, headers)?;
    Ok((status, start.elapsed()))
}

/// A TCP connection with 10 s timeouts.
pub fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    Ok(stream)
}

/// Sends `GET path` with `Connection: close` over `stream`, reads to the end, returns the status.
pub fn exchange(stream: &mut impl ReadWrite, path: &str, headers: &[&str]) -> std::io::Result<u16> {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for h in headers {
        request.push_str(h);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    std::str::from_utf8(&response[..response.len().min(12)])
        .ok()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no HTTP status in {} bytes", response.len())))
}

/// Read and Write.
pub trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// Latencies of `rounds` GETs of each path by `get` (such as [`timed_get`]), in order; an error
/// when one is not a 200.
pub fn latencies(
    paths: &[&str],
    rounds: usize,
    get: impl Fn(&str) -> std::io::Result<(u16, Duration)>,
) -> std::io::Result<Vec<(String, Duration)>> {
    let mut out = Vec::new();
    for _ in 0..rounds {
        for path in paths {
            let (status, took) = get(path)?;
            if status != 200 {
                return Err(std::io::Error::other(format!("GET {path}: status {status}")));
            }
            out.push((path.to_string(), took));
        }
    }
    Ok(out)
}

/// Median and maximum of the latencies of one path.
pub fn summary(latencies: &[(String, Duration)], path: &str) -> (Duration, Duration) {
    let mut of: Vec<Duration> = latencies.iter().filter(|(p, _)| p == path).map(|(_, d)| *d).collect();
    of.sort();
    (of.get(of.len() / 2).copied().unwrap_or_default(), of.last().copied().unwrap_or_default())
}

/// Raises this process's soft limit on open files to its hard limit (500 stuck connections
/// and the server's side of them need more than the usual 1024).
pub fn raise_fd_limit() {
    // SAFETY: getrlimit/setrlimit with a valid pointer to an rlimit.
    unsafe {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
