//! Routes of `hypermesh serve`.
//!
//! | path | what |
//! |---|---|
//! | `/metrics` | every selected collector, Prometheus text or OpenMetrics by `Accept` |
//! | `/v1/profile` | the cached host profile, the same JSON as `hypermesh profile --json` |
//! | `/v1/usage` | rates since the previous reading (scrape or call), as `hypermesh usage --json` |
//! | `/v1/assets` | assets and allocations, as `hypermesh assets --json` |
//! | `/v1/ebpf/probe` | this kernel's eBPF support, as `hypermesh ebpf probe --quick --json` |
//! | `/v1/health` | hardware health (at most a minute old), as `hypermesh health --json` |
//! | `/healthz` | `ok` while the server runs; never asks for credentials |
//! | `/` | a short index of the above |
//!
//! A source that cannot be read answers 503 with the reason. Unknown paths answer 404, other
//! methods than GET/HEAD 405 with `Allow`.
//!
//! With basic auth configured, every route but `/healthz` needs credentials: liveness probes
//! (the kubelet's) cannot easily send them, and `/healthz` tells nothing but `ok`.
//!
//! `/healthz` answers on the runtime thread, ahead of everything else. The routes that read
//! sources (`/metrics`, `/v1/usage`, `/v1/assets`, `/v1/ebpf/probe`: sampling, a ledger that
//! may be locked for up to a second, a probe) run on the blocking pool, at most `workers` at a
//! time, waiting their turn in order; so neither a flood of scrapes nor a slow source delays
//! `/healthz` or the accepting of connections.

use crate::auth::{BasicAuth, Verdict};
use crate::collector::{Format, Scraper};
use crate::sources::Sources;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hypermesh_os::usage::Report;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// What the handlers serve.
pub struct App {
    scraper: Scraper,
    sources: Arc<Sources>,
    profile_json: String,
}

impl App {
    /// Serves these collectors and the JSON routes over these sources.
    pub fn new(scraper: Scraper, sources: Arc<Sources>) -> Result<Self, serde_json::Error> {
        let mut profile_json = serde_json::to_string_pretty(&*sources.profile)?;
        profile_json.push('\n');
        Ok(App { scraper, sources, profile_json })
    }
}

/// The app, and the permits of route handlers running on the blocking pool.
struct Handlers {
    app: App,
    workers: Arc<Semaphore>,
}

impl Handlers {
    /// Runs `job` on the blocking pool once one of the workers is free.
    async fn offload(self: &Arc<Self>, job: impl FnOnce(&App) -> Response + Send + 'static) -> Response {
        let Ok(permit) = Arc::clone(&self.workers).acquire_owned().await else {
            return unavailable("stopping");
        };
        let this = Arc::clone(self);
        let handled = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job(&this.app)
        });
        handled.await.unwrap_or_else(|e| {
            (StatusCode::INTERNAL_SERVER_ERROR, format!("handler failed: {e}\n")).into_response()
        })
    }
}

/// The router: basic auth in front of every route but `/healthz` when `auth` is given, and
/// handlers reading sources run once they hold one of `workers`' permits (503 once it is
/// closed: the server is stopping).
pub fn router(app: App, auth: Option<Arc<BasicAuth>>, workers: Arc<Semaphore>) -> Router {
    let handlers = Arc::new(Handlers { app, workers });
    let routes = Router::new()
        .route("/metrics", get(metrics))
        .route("/v1/profile", get(profile))
        .route("/v1/usage", get(usage))
        .route("/v1/assets", get(assets))
        .route("/v1/ebpf/probe", get(ebpf_probe))
        .route("/v1/health", get(health))
        .route("/", get(index))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found; see / for the endpoints\n") })
        .with_state(handlers);
    let routes = match auth {
        Some(auth) => routes.layer(middleware::from_fn_with_state(auth, require_auth)),
        None => routes,
    };
    // Added after the auth layer, so outside it.
    routes.route("/healthz", get(|| async { "ok\n" }))
}

async fn metrics(State(handlers): State<Arc<Handlers>>, request: Request) -> Response {
    let accept = request.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = Format::from_accept(accept);
    handlers
        .offload(move |app| {
            let body = app.scraper.scrape(format);
            ([(header::CONTENT_TYPE, format.content_type())], body).into_response()
        })
        .await
}

async fn profile(State(handlers): State<Arc<Handlers>>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], handlers.app.profile_json.clone()).into_response()
}

async fn usage(State(handlers): State<Arc<Handlers>>) -> Response {
    handlers
        .offload(|app| {
            json(
                app.sources
                    .usage
                    .read(|root, prev, now| serde_json::to_string_pretty(&Report::new(root, prev, now))),
            )
        })
        .await
}

async fn assets(State(handlers): State<Arc<Handlers>>) -> Response {
    handlers
        .offload(|app| match &app.sources.assets {
            Ok(source) => match source.listing() {
                Ok(listing) => json(serde_json::to_string_pretty(&*listing)),
                Err(e) => unavailable(&format!("assets: {e}")),
            },
            Err(why) => unavailable(&format!("assets: {why}")),
        })
        .await
}

async fn ebpf_probe(State(handlers): State<Arc<Handlers>>) -> Response {
    handlers
        .offload(|app| match app.sources.ebpf_probe() {
            Ok(probe) => json(serde_json::to_string_pretty(&*probe)),
            Err(why) => unavailable(&format!("eBPF probe: {why}")),
        })
        .await
}

async fn health(State(handlers): State<Arc<Handlers>>) -> Response {
    // Asking disks can block (an SG_IO command may take seconds): off the runtime thread.
    handlers
        .offload(|app| match app.sources.health.report() {
            Ok(report) => json(serde_json::to_string_pretty(&*report)),
            Err(e) => unavailable(&format!("health: {e}")),
        })
        .await
}

/// A JSON body, or 500 when it could not be serialised.
fn json(body: Result<String, serde_json::Error>) -> Response {
    match body {
        Ok(mut body) => {
            body.push('\n');
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("cannot serialise: {e}\n")).into_response(),
    }
}

fn unavailable(why: &str) -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")).into_response()
}

async fn index(State(handlers): State<Arc<Handlers>>) -> String {
    format!(
        "hypermesh node agent\n\n/metrics         Prometheus metrics (collectors: {})\n/v1/profile      host profile (JSON)\n/v1/usage        usage since the previous reading (JSON)\n/v1/assets       assets and allocations (JSON)\n/v1/ebpf/probe   eBPF support of this kernel (JSON)\n/v1/health       hardware health (JSON)\n/healthz         liveness (no credentials needed)\n",
        handlers.app.scraper.names().join(", ")
    )
}

async fn require_auth(State(auth): State<Arc<BasicAuth>>, request: Request, next: Next) -> Response {
    let header = request.headers().get(header::AUTHORIZATION).map(HeaderValue::as_bytes);
    match auth.check(header).await {
        Verdict::Allowed => return next.run(request).await,
        Verdict::Stopping => return unavailable("stopping"),
        Verdict::Denied => {}
    }
    let mut response = Response::new(Body::from("unauthorized\n"));
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"hypermesh\""));
    response
}
