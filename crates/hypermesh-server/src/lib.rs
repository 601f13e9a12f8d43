//! `hypermesh serve`: the node agent's HTTP face, and its Kubernetes labels.
//!
//! - [`collector`]: the [`Collector`](collector::Collector) trait, one per `/metrics` section,
//!   and the [`Scraper`](collector::Scraper) that runs them with per-collector duration and
//!   success metrics (like node_exporter's `node_scrape_collector_*`).
//! - [`collectors`]: the sections that exist (inventory today), chosen with `--collectors`.
//! - [`http`]: routes (`/metrics`, `/v1/profile`, `/healthz`) and basic auth.
//! - [`config`]: exporter-toolkit style web config (TLS, basic auth users), validated at load.
//! - [`server`]: the listener: connection limits, header limits and timeouts, TLS, graceful
//!   shutdown.
//! - [`nfd`]: node-feature-discovery labels from a host profile.

pub mod auth;
pub mod collector;
pub mod collectors;
pub mod config;
pub mod http;
pub mod nfd;
pub mod rows;
pub mod server;
