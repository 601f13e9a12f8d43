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
//! | `/healthz` | `ok` while the server runs |
//! | `/` | a short index of the above |
//!
//! A source that cannot be read answers 503 with the reason. Unknown paths answer 404, other
//! methods than GET/HEAD 405 with `Allow`.

use crate::auth::BasicAuth;
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

/// The router, with basic auth in front of every route when `auth` is given.
pub fn router(app: Arc<App>, auth: Option<Arc<BasicAuth>>) -> Router {
    let routes = Router::new()
        .route("/metrics", get(metrics))
        .route("/v1/profile", get(profile))
        .route("/v1/usage", get(usage))
        .route("/v1/assets", get(assets))
        .route("/v1/ebpf/probe", get(ebpf_probe))
        .route("/v1/health", get(|State(app): State<Arc<App>>| async move { health_json(&app) }))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/", get(index))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found; see / for the endpoints\n") })
        .with_state(app);
    match auth {
        Some(auth) => routes.layer(middleware::from_fn_with_state(auth, require_auth)),
        None => routes,
    }
}

async fn metrics(State(app): State<Arc<App>>, request: Request) -> Response {
    let accept = request.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = Format::from_accept(accept);
    let body = app.scraper.scrape(format);
    ([(header::CONTENT_TYPE, format.content_type())], body).into_response()
}

async fn profile(State(app): State<Arc<App>>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], app.profile_json.clone()).into_response()
}

async fn usage(State(app): State<Arc<App>>) -> Response {
    json(
        app.sources.usage.read(|root, prev, now| serde_json::to_string_pretty(&Report::new(root, prev, now))),
    )
}

async fn assets(State(app): State<Arc<App>>) -> Response {
    match &app.sources.assets {
        Ok(source) => match source.listing() {
            Ok(listing) => json(serde_json::to_string_pretty(&*listing)),
            Err(e) => unavailable(&format!("assets: {e}")),
        },
        Err(why) => unavailable(&format!("assets: {why}")),
    }
}

async fn ebpf_probe(State(app): State<Arc<App>>) -> Response {
    match app.sources.ebpf_probe() {
        Ok(probe) => json(serde_json::to_string_pretty(&*probe)),
        Err(why) => unavailable(&format!("eBPF probe: {why}")),
    }
}

fn health_json(app: &App) -> Response {
    match app.sources.health.report() {
        Ok(report) => json(serde_json::to_string_pretty(&*report)),
        Err(e) => unavailable(&format!("health: {e}")),
    }
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

async fn index(State(app): State<Arc<App>>) -> String {
    format!(
        "hypermesh node agent\n\n/metrics         Prometheus metrics (collectors: {})\n/v1/profile      host profile (JSON)\n/v1/usage        usage since the previous reading (JSON)\n/v1/assets       assets and allocations (JSON)\n/v1/ebpf/probe   eBPF support of this kernel (JSON)\n/healthz         liveness\n",
        app.scraper.names().join(", ")
    )
}

async fn require_auth(State(auth): State<Arc<BasicAuth>>, request: Request, next: Next) -> Response {
    let header = request.headers().get(header::AUTHORIZATION).map(HeaderValue::as_bytes);
    if auth.check(header).await {
        return next.run(request).await;
    }
    let mut response = Response::new(Body::from("unauthorized\n"));
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"hypermesh\""));
    response
}
