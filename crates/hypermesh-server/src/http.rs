//! Routes of `hypermesh serve`.
//!
//! | path | what |
//! |---|---|
//! | `/metrics` | every selected collector, Prometheus text or OpenMetrics by `Accept` |
//! | `/v1/profile` | the cached host profile, the same JSON as `hypermesh profile --json` |
//! | `/healthz` | `ok` while the server runs |
//! | `/` | a short index of the above |
//!
//! `/v1/usage`, `/v1/assets` and `/v1/ebpf/probe` join this table when the usage sampler, the
//! asset manager and the eBPF probe are wired in; until then they are unknown paths (404), not
//! placeholders. Unknown paths answer 404, other methods than GET/HEAD 405 with `Allow`.

use crate::auth::BasicAuth;
use crate::collector::{Format, Scraper};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hypermesh_os::HostProfile;
use std::sync::Arc;

/// What the handlers serve.
pub struct App {
    scraper: Scraper,
    profile_json: String,
}

impl App {
    /// Serves these collectors and this (cached) profile.
    pub fn new(scraper: Scraper, profile: &HostProfile) -> Result<Self, serde_json::Error> {
        let mut profile_json = serde_json::to_string_pretty(profile)?;
        profile_json.push('\n');
        Ok(App { scraper, profile_json })
    }
}

/// The router, with basic auth in front of every route when `auth` is given.
pub fn router(app: Arc<App>, auth: Option<Arc<BasicAuth>>) -> Router {
    let routes = Router::new()
        .route("/metrics", get(metrics))
        .route("/v1/profile", get(profile))
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

async fn index(State(app): State<Arc<App>>) -> String {
    format!(
        "hypermesh node agent\n\n/metrics      Prometheus metrics (collectors: {})\n/v1/profile   host profile (JSON)\n/healthz      liveness\n",
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
