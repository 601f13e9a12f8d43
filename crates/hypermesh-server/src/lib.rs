//! `hypermesh serve`: the node agent's HTTP face.
//!
//! - [`collector`]: the [`Collector`](collector::Collector) trait, one per `/metrics` section,
//!   and the [`Scraper`](collector::Scraper) that runs them with per-collector duration and
//!   success metrics (like node_exporter's `node_scrape_collector_*`).
//! - [`collectors`]: the sections (inventory, usage, assets), chosen with `--collectors`.
//! - [`sources`]: what collectors and routes read: cached profile, shared usage sampler, asset
//!   view, eBPF probe.
//! - [`http`]: routes (`/metrics`, `/v1/profile`, `/v1/usage`, `/v1/assets`, `/v1/ebpf/probe`,
//!   `/healthz`); [`auth`]: basic auth with bounded bcrypt work.
//! - [`config`]: exporter-toolkit style web config (TLS, basic auth users), validated at load.
//! - [`server`]: the listener: connection limits, header limits and timeouts, TLS, graceful
//!   shutdown; [`conns`]: which connection to shed when full; [`stall`]: the write timeout.
//!
//! Nothing here exists without the `native_linux` cfg (other systems, or the portable-only check
//! build; see `build-support/native_linux.rs`): the server reads the native usage sampler,
//! `FsRoot` and the eBPF layer, which are Linux-only.

#[cfg(native_linux)]
pub mod auth;
#[cfg(native_linux)]
pub mod collector;
#[cfg(native_linux)]
pub mod collectors;
#[cfg(native_linux)]
pub mod config;
#[cfg(native_linux)]
pub mod conns;
#[cfg(native_linux)]
pub mod http;
#[cfg(native_linux)]
pub mod rows;
#[cfg(native_linux)]
pub mod server;
#[cfg(native_linux)]
pub mod sources;
#[cfg(native_linux)]
pub mod stall;
