//! The listener: accepts connections within limits, optionally over TLS, and shuts down
//! gracefully.
//!
//! What keeps misbehaving clients (a flood of them included) from locking anyone out, all with
//! hyper's own knobs and tokio timers:
//! - no new client ever waits for a slot: at most [`Limits::max_connections`] are open, and a
//!   new one past that evicts the connection that has gone longest without a complete request
//!   head, idle ones first (see [`crate::conns`]); so clients that connect and say nothing,
//!   trickle their headers, or stop reading replies are shed, and `/healthz` and `/metrics`
//!   keep answering;
//! - a request head must be complete within [`Limits::header_read_timeout`], counted from the
//!   moment the connection is ready for a request: after the accept (or TLS handshake) and
//!   after each response of a kept-alive connection, so it is also the keep-alive idle timeout;
//!   heads are bounded in size (431 past [`Limits::max_header_bytes`]);
//! - a write that makes no progress for [`Limits::write_timeout`] closes the connection
//!   ([`crate::stall`]);
//! - pipelined requests are answered one at a time: hyper reads the next request only once the
//!   previous response is in its write buffer, which holds at most [`WRITE_BUFFER_BYTES`]
//!   beyond the socket's own buffer (bounded too: [`SEND_BUFFER_BYTES`]), and flushes after
//!   every response; so a client that sends many requests and reads none gets a few answers,
//!   then the writes stall and the write timeout closes it;
//! - the TLS handshake must finish within [`Limits::tls_handshake_timeout`];
//! - route handlers that read sources, and bcrypt checks, each run on the blocking pool at most
//!   [`Limits::workers`] at a time (see [`crate::http`], [`crate::auth`]).

use crate::auth::BasicAuth;
use crate::config::WebConfig;
use crate::conns::{Admitted, Connections};
use crate::http::{App, router};
use crate::stall::WriteTimeout;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use std::fmt;
use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

/// Bytes of responses hyper buffers for one connection beyond what the socket takes (its
/// smallest allowed buffer; a request head must fit in it too).
pub const WRITE_BUFFER_BYTES: usize = 8192;

/// Kernel send buffer of a connection (Linux doubles it for its own bookkeeping). Without a
/// bound, loopback and LAN connections grow theirs to megabytes, so that a client that reads
/// nothing would get dozens of pipelined scrapes answered, and the kernel keep them, before its
/// writes stall; 64 KiB still carries a large node's `/metrics` in a few round trips.
pub const SEND_BUFFER_BYTES: usize = 64 << 10;

/// How long a stopping process waits for handlers still running on the blocking pool (a
/// bcrypt check nobody awaits any more) before it exits without them.
const BLOCKING_WAIT_AT_EXIT: Duration = Duration::from_millis(500);

/// Bounds on what clients may cost.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Open connections at most; a new one past that evicts the stalest.
    pub max_connections: usize,
    /// Largest request head (request line and headers) in bytes, at most [`WRITE_BUFFER_BYTES`].
    pub max_header_bytes: usize,
    /// Time a connection has to send a complete request head once it is ready for one (after
    /// the accept or TLS handshake, and after each response): the keep-alive idle timeout too.
    pub header_read_timeout: Duration,
    /// Time a response write may go without progress (the client reads nothing).
    pub write_timeout: Duration,
    /// Time a client has to finish the TLS handshake.
    pub tls_handshake_timeout: Duration,
    /// Time open connections get to finish after a shutdown signal.
    pub shutdown_grace: Duration,
    /// Route handlers reading sources, and bcrypt checks, running at once (each).
    pub workers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 64,
            max_header_bytes: 8 << 10,
            header_read_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(5),
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4),
        }
    }
}

/// Where to listen: one address, or every address of the host (`:PORT`, as Prometheus and Go
/// write it: IPv6 and IPv4 on one dual-stack socket, IPv4 alone where IPv6 is off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    /// This address and port.
    Addr(SocketAddr),
    /// Every address, this port.
    AllAddresses(u16),
}

/// A `--listen` value that is neither `HOST:PORT` nor `:PORT`.
#[derive(Debug, thiserror::Error)]
#[error("{0:?}: expected ADDRESS:PORT (127.0.0.1:9469, [::1]:9469) or :PORT for every address")]
pub struct BadListen(String);

impl FromStr for Listen {
    type Err = BadListen;

    fn from_str(s: &str) -> Result<Listen, BadListen> {
        let listen = match s.strip_prefix(':') {
            Some(port) => port.parse().ok().map(Listen::AllAddresses),
            None => s.parse().ok().map(Listen::Addr),
        };
        listen.ok_or_else(|| BadListen(s.to_string()))
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Addr(addr) => addr.fmt(f),
            Listen::AllAddresses(port) => write!(f, ":{port}"),
        }
    }
}

impl Listen {
    async fn bind(self) -> std::io::Result<TcpListener> {
        match self {
            Listen::Addr(addr) => TcpListener::bind(addr).await,
            Listen::AllAddresses(port) => match dual_stack(port) {
                Err(e) if e.raw_os_error() == Some(libc::EAFNOSUPPORT) => {
                    TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).await
                }
                bound => bound,
            },
        }
    }
}

/// A listener on `[::]:port` that takes IPv4 too, whatever `net.ipv6.bindv6only` says.
fn dual_stack(port: u16) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_only_v6(false)?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&SocketAddr::from((Ipv6Addr::UNSPECIFIED, port)).into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}

/// A bound, not yet running, server.
pub struct Server {
    listener: TcpListener,
    router: axum::Router,
    auth: Option<Arc<BasicAuth>>,
    workers: Arc<Semaphore>,
    tls: Option<TlsAcceptor>,
    limits: Limits,
}

impl Server {
    /// Binds `listen` and prepares the routes; fails when the address cannot be bound.
    pub async fn bind(listen: Listen, app: App, web: &WebConfig, limits: Limits) -> std::io::Result<Server> {
        let listener = listen.bind().await?;
        let auth = (!web.basic_auth_users.is_empty())
            .then(|| Arc::new(BasicAuth::new(web.basic_auth_users.clone(), limits.workers)));
        let workers = Arc::new(Semaphore::new(limits.workers.max(1)));
        let router = router(app, auth.clone(), Arc::clone(&workers));
        let tls = web.tls.clone().map(TlsAcceptor::from);
        Ok(Server { listener, router, auth, workers, tls, limits })
    }

    /// The address actually bound (the port chosen when 0 was asked for).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// True when connections are TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Serves until `shutdown` completes, then lets open connections finish their current
    /// request for at most [`Limits::shutdown_grace`] (requests still waiting for a worker or a
    /// bcrypt check answer 503 at once).
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.limits.header_read_timeout)
            .max_header_size(self.limits.max_header_bytes.min(WRITE_BUFFER_BYTES))
            .max_buf_size(WRITE_BUFFER_BYTES)
            .pipeline_flush(false);
        let graceful = GracefulShutdown::new();
        let connections = Connections::new(self.limits.max_connections);
        let service = TowerToHyperService::new(self.router);
        tokio::pin!(shutdown);
        loop {
            let (stream, _) = tokio::select! {
                _ = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(a) => a,
                    // EMFILE, ECONNABORTED...: the listener stays usable; back off briefly.
                    Err(e) => {
                        eprintln!("hypermesh serve: accept: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let connection = Connection {
                admitted: Arc::new(connections.admit()),
                builder: builder.clone(),
                service: service.clone(),
                watcher: graceful.watcher(),
                limits: self.limits.clone(),
            };
            tokio::spawn(connection.serve(stream, self.tls.clone()));
        }
        self.workers.close();
        if let Some(auth) = &self.auth {
            auth.stop();
        }
        drop(self.listener);
        let _ = tokio::time::timeout(self.limits.shutdown_grace, graceful.shutdown()).await;
    }
}

/// One accepted connection and what serving it takes.
struct Connection {
    admitted: Arc<Admitted>,
    builder: http1::Builder,
    service: TowerToHyperService<axum::Router>,
    watcher: Watcher,
    limits: Limits,
}

impl Connection {
    /// Serves the connection until it closes, fails, times out or is evicted.
    async fn serve(self, stream: TcpStream, tls: Option<TlsAcceptor>) {
        let _ = stream.set_nodelay(true);
        let _ = socket2::SockRef::from(&stream).set_send_buffer_size(SEND_BUFFER_BYTES);
        let admitted = Arc::clone(&self.admitted);
        let io = WriteTimeout::new(stream, self.limits.write_timeout);
        let handshake_timeout = self.limits.tls_handshake_timeout;
        let served = async move {
            match tls {
                None => self.http(io).await,
                Some(acceptor) => {
                    if let Ok(Ok(io)) = tokio::time::timeout(handshake_timeout, acceptor.accept(io)).await {
                        self.http(io).await;
                    }
                }
            }
        };
        tokio::select! {
            _ = served => {}
            _ = admitted.evicted() => {}
        }
    }

    /// HTTP/1 over `io`, each request marked on the connection's registration.
    async fn http<I>(self, io: I)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Connection { admitted, builder, service, watcher, .. } = self;
        let service = hyper::service::service_fn(move |request| {
            let answering = admitted.request();
            let response = hyper::service::Service::call(&service, request);
            async move {
                let response = response.await;
                drop(answering);
                response
            }
        });
        let connection = builder.serve_connection(TokioIo::new(io), service);
        // Errors here are the client's (reset, timeout, malformed request): nothing to report.
        let _ = watcher.watch(connection).await;
    }
}

/// Installs SIGTERM and SIGINT handlers now (so that a signal from here on is never fatal) and
/// returns a future that completes on the first of them. Needs a running Tokio runtime.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
    })
}

/// Everything `hypermesh serve` needs.
pub struct ServeOptions {
    /// Where to listen.
    pub listen: Listen,
    /// Validated web config.
    pub web: WebConfig,
    /// What to serve.
    pub app: App,
    /// Client limits.
    pub limits: Limits,
}

/// Runs the server on a single-threaded runtime (plus the blocking pool for handlers and
/// bcrypt) until SIGTERM or SIGINT.
pub fn run_blocking(options: ServeOptions) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // Handlers and bcrypt checks, `workers` of each (their semaphores bound them already).
        .max_blocking_threads(2 * options.limits.workers.max(1))
        .build()?;
    let served = runtime.block_on(async move {
        let signal = shutdown_signal()?;
        let server = Server::bind(options.listen, options.app, &options.web, options.limits).await?;
        let scheme = if server.is_tls() { "https" } else { "http" };
        eprintln!("hypermesh serve: listening on {scheme}://{}", server.local_addr()?);
        server.run(signal).await;
        Ok(())
    });
    // Not waiting for a bcrypt check nobody awaits any more (seconds at the highest cost
    // allowed).
    runtime.shutdown_timeout(BLOCKING_WAIT_AT_EXIT);
    eprintln!("hypermesh serve: stopped");
    served
}
