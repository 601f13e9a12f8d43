//! The extension point of `/metrics`: one [`Collector`] per section, run by a [`Scraper`].
//!
//! A collector writes its families into the scrape's registry (prefix `hypermesh_`). The
//! scraper times each one and adds `hypermesh_scrape_collector_duration_seconds{collector}` and
//! `hypermesh_scrape_collector_success{collector}`, as node_exporter does: a failing section
//! shows up as `success 0` and leaves the other sections intact. A failure is logged to stderr
//! when it starts or its message changes, not on every scrape.

use crate::rows::GaugeRows;
use prometheus_client::registry::Registry;
use std::sync::Mutex;
use std::time::Instant;

/// Why a collector could not produce its section.
pub type CollectError = Box<dyn std::error::Error + Send + Sync>;

/// One section of `/metrics` (inventory, usage, ebpf, assets).
pub trait Collector: Send + Sync {
    /// Name used by `--collectors` and in the `collector` label.
    fn name(&self) -> &'static str;

    /// Registers this section's metric families for one scrape. Families registered before an
    /// error are still exposed.
    fn collect(&self, registry: &mut Registry) -> Result<(), CollectError>;
}

/// Exposition format of a scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4 (what promtool and older scrapers read).
    Prometheus,
    /// OpenMetrics 1.0 text (what Prometheus asks for first).
    OpenMetrics,
}

impl Format {
    /// Picks the format from an `Accept` header: OpenMetrics when the client names it.
    pub fn from_accept(accept: Option<&str>) -> Self {
        match accept {
            Some(a) if a.contains("application/openmetrics-text") => Format::OpenMetrics,
            _ => Format::Prometheus,
        }
    }

    /// The `Content-Type` of this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// Runs the selected collectors for each scrape.
pub struct Scraper {
    collectors: Vec<Box<dyn Collector>>,
    /// Last error logged per collector (same order), to log transitions only.
    last_errors: Mutex<Vec<Option<String>>>,
}

impl Scraper {
    /// A scraper over these collectors, run in the order given.
    pub fn new(collectors: Vec<Box<dyn Collector>>) -> Self {
        let last_errors = Mutex::new(vec![None; collectors.len()]);
        Scraper { collectors, last_errors }
    }

    /// Names of the collectors, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.collectors.iter().map(|c| c.name()).collect()
    }

    /// Collects every section and encodes the result.
    pub fn scrape(&self, format: Format) -> String {
        let mut registry = Registry::with_prefix("hypermesh");
        let mut durations = Vec::with_capacity(self.collectors.len());
        let mut successes = Vec::with_capacity(self.collectors.len());
        for (i, collector) in self.collectors.iter().enumerate() {
            let start = Instant::now();
            let result = collector.collect(&mut registry);
            let label = [("collector", collector.name())];
            durations.push((label, start.elapsed().as_secs_f64()));
            successes.push((label, u32::from(result.is_ok())));
            self.log_transition(i, collector.name(), result.err().map(|e| e.to_string()));
        }
        registry.register(
            "scrape_collector_duration_seconds",
            "Time a collector took during this scrape, in seconds",
            GaugeRows::new(durations),
        );
        registry.register(
            "scrape_collector_success",
            "Whether a collector succeeded during this scrape (1) or failed (0)",
            GaugeRows::new(successes),
        );
        let mut out = String::with_capacity(16 << 10);
        let encoded = match format {
            Format::Prometheus => prometheus_client::encoding::prometheus_text::encode(&mut out, &registry),
            Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut out, &registry),
        };
        // Writing into a String cannot fail; a metric's encoder can only fail on the writer.
        debug_assert!(encoded.is_ok());
        out
    }

    fn log_transition(&self, index: usize, name: &str, error: Option<String>) {
        let Ok(mut last) = self.last_errors.lock() else { return };
        let Some(slot) = last.get_mut(index) else { return };
        if *slot != error {
            match &error {
                Some(e) => eprintln!("hypermesh serve: collector {name} failed: {e}"),
                None if slot.is_some() => eprintln!("hypermesh serve: collector {name} recovered"),
                None => {}
            }
            *slot = error;
        }
    }
}
