//! The listener: accepts connections within limits, optionally over TLS, and shuts down
//! gracefully.
//!
//! Limits that keep a misbehaving client from costing memory or starving the scraper: at most
//! [`Limits::max_connections`] open connections (the accept loop waits beyond that), request
//! headers bounded in size (431 past [`Limits::max_header_bytes`]) and in time (a client that
//! does not finish its headers within [`Limits::header_read_timeout`] is dropped, slowloris
//! style clients included), and a TLS handshake bounded in time.

use crate::auth::BasicAuth;
use crate::config::WebConfig;
use crate::http::{App, router};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

/// Bounds on what clients may cost.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Open connections at most.
    pub max_connections: usize,
    /// Largest request head (request line and headers) in bytes.
    pub max_header_bytes: usize,
    /// Time a client has to send a complete request head.
    pub header_read_timeout: Duration,
    /// Time a client has to finish the TLS handshake.
    pub tls_handshake_timeout: Duration,
    /// Time open connections get to finish after a shutdown signal.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 64,
            max_header_bytes: 8 << 10,
            header_read_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// A bound, not yet running, server.
pub struct Server {
    listener: TcpListener,
    router: axum::Router,
    tls: Option<TlsAcceptor>,
    limits: Limits,
}

impl Server {
    /// Binds `listen` and prepares the routes; fails when the address cannot be bound.
    pub async fn bind(
        listen: SocketAddr,
        app: App,
        web: &WebConfig,
        limits: Limits,
    ) -> std::io::Result<Server> {
        let listener = TcpListener::bind(listen).await?;
        let auth = (!web.basic_auth_users.is_empty())
            .then(|| Arc::new(BasicAuth::new(web.basic_auth_users.clone())));
        let router = router(Arc::new(app), auth);
        let tls = web.tls.clone().map(TlsAcceptor::from);
        Ok(Server { listener, router, tls, limits })
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
    /// request for at most [`Limits::shutdown_grace`].
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.limits.header_read_timeout)
            .max_header_size(self.limits.max_header_bytes)
            .max_buf_size(self.limits.max_header_bytes.max(8192));
        let graceful = GracefulShutdown::new();
        let permits = Arc::new(Semaphore::new(self.limits.max_connections));
        let service = TowerToHyperService::new(self.router);
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                _ = &mut shutdown => break,
                permit = permits.clone().acquire_owned() => match permit {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
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
            let _ = stream.set_nodelay(true);
            let builder = builder.clone();
            let service = service.clone();
            let watcher = graceful.watcher();
            let tls = self.tls.clone();
            let handshake_timeout = self.limits.tls_handshake_timeout;
            tokio::spawn(async move {
                let _permit = permit;
                match tls {
                    None => serve_io(&builder, stream, service, watcher).await,
                    Some(acceptor) => {
                        if let Ok(Ok(stream)) =
                            tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await
                        {
                            serve_io(&builder, stream, service, watcher).await;
                        }
                    }
                }
            });
        }
        drop(self.listener);
        let _ = tokio::time::timeout(self.limits.shutdown_grace, graceful.shutdown()).await;
    }
}

async fn serve_io<I>(
    builder: &http1::Builder,
    io: I,
    service: TowerToHyperService<axum::Router>,
    watcher: hyper_util::server::graceful::Watcher,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let connection = builder.serve_connection(TokioIo::new(io), service);
    // Errors here are the client's (reset, timeout, malformed request): nothing to report.
    let _ = watcher.watch(connection).await;
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
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Validated web config.
    pub web: WebConfig,
    /// What to serve.
    pub app: App,
    /// Client limits.
    pub limits: Limits,
}

/// Runs the server on a single-threaded runtime until SIGTERM or SIGINT.
pub fn run_blocking(options: ServeOptions) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let signal = shutdown_signal()?;
        let server = Server::bind(options.listen, options.app, &options.web, options.limits).await?;
        let scheme = if server.is_tls() { "https" } else { "http" };
        eprintln!("hypermesh serve: listening on {scheme}://{}", server.local_addr()?);
        server.run(signal).await;
        eprintln!("hypermesh serve: stopped");
        Ok(())
    })
}
