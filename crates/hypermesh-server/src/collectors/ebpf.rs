//! `ebpf` (off unless named in `--collectors`): run-queue latency and block I/O latency per
//! disk and operation, as Prometheus histograms from the suite's runqlat and biolatency
//! programs. They are loaded and attached when the collector is built (root or CAP_BPF +
//! CAP_PERFMON needed) and detached when it is dropped, i.e. when the server stops.
//! A program that could not start makes every scrape of this collector fail with its reason.

use crate::collector::{CollectError, Collector};
use crate::rows::HistogramRows;
use hypermesh_ebpf::programs::biolatency::Biolatency;
use hypermesh_ebpf::programs::metrics::Histogram;
use hypermesh_ebpf::programs::runqlat::Runqlat;
use hypermesh_os::FsRoot;
use prometheus_client::registry::Registry;
use std::path::Path;

/// Name of this collector.
pub const NAME: &str = "ebpf";

/// The running programs, or why each could not start.
pub struct Ebpf {
    runqlat: Result<Runqlat, String>,
    biolatency: Result<Biolatency, String>,
    /// Disk names are resolved under this root.
    root: Result<FsRoot, String>,
}

impl Ebpf {
    /// Loads and attaches runqlat and biolatency; disk names come from `root`.
    pub fn new(root: &Path) -> Self {
        let runqlat = Runqlat::start().map_err(|e| format!("runqlat: {e}"));
        let biolatency = Biolatency::start().map_err(|e| format!("biolatency: {e}"));
        for problem in [runqlat.as_ref().err(), biolatency.as_ref().err()].into_iter().flatten() {
            eprintln!("hypermesh serve: ebpf: {problem}");
        }
        let root = FsRoot::new(root).map_err(|e| e.to_string());
        Ebpf { runqlat, biolatency, root }
    }
}

impl Collector for Ebpf {
    fn name(&self) -> &'static str {
        NAME
    }

    fn collect(&self, registry: &mut Registry) -> Result<(), CollectError> {
        let mut problems = Vec::new();
        let runqlat =
            self.runqlat.as_ref().map_err(String::clone).and_then(|r| r.metrics().map_err(|e| e.to_string()));
        match runqlat {
            Ok(h) => register(registry, vec![h]),
            Err(e) => problems.push(e),
        }
        let biolatency = match (&self.biolatency, &self.root) {
            (Ok(b), Ok(root)) => b.metrics(root).map_err(|e| e.to_string()),
            (Err(e), _) | (_, Err(e)) => Err(e.clone()),
        };
        match biolatency {
            Ok(series) => register(registry, series),
            Err(e) => problems.push(e),
        }
        if problems.is_empty() { Ok(()) } else { Err(problems.join("; ").into()) }
    }
}

/// Registers the series of one family (named by the first), without the registry's prefix.
fn register(registry: &mut Registry, series: Vec<Histogram>) {
    let Some(info) = series.first().map(|h| h.info) else { return };
    let name = info.name.strip_prefix("hypermesh_").unwrap_or(info.name);
    registry.register(name, info.help, HistogramRows::new(series));
}
