//! What the collectors and the JSON routes read: the cached inventory, one usage sampler shared
//! by `/metrics` and `/v1/usage`, the asset view, and the eBPF probe (run once, on first use).

use hypermesh_assets::{Inventory, Listing};
use hypermesh_ebpf::probe::{self, Probe, ProbeOptions};
use hypermesh_os::usage::{Sample, Sampler};
use hypermesh_os::{FsRoot, HostProfile};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// How long a scrape waits for an `hypermesh assets allocate` holding the ledger.
const LEDGER_WAIT: Duration = Duration::from_secs(1);

/// Everything the server reads from.
pub struct Sources {
    /// The inventory, detected once at start.
    pub profile: Arc<HostProfile>,
    /// The usage sampler.
    pub usage: UsageSource,
    /// The node's assets, or why they cannot be shown.
    pub assets: Result<AssetsSource, String>,
    /// The eBPF probe of this kernel for this process.
    pub ebpf: EbpfSource,
}

impl Sources {
    /// Sources reading under `root`; the asset view as given.
    pub fn new(root: FsRoot, profile: Arc<HostProfile>, assets: Result<AssetsSource, String>) -> Sources {
        Sources { ebpf: EbpfSource::new(root.dir()), usage: UsageSource::new(root), profile, assets }
    }
}

/// One sampler with its last sample: each reading gives the sample before it and a new one.
pub struct UsageSource {
    state: Mutex<(Sampler, Sample)>,
}

impl UsageSource {
    /// Opens the counter files under `root` and takes the first sample.
    pub fn new(root: FsRoot) -> UsageSource {
        let mut sampler = Sampler::new(root);
        let first = sampler.sample();
        UsageSource { state: Mutex::new((sampler, first)) }
    }

    /// Takes a sample and hands `f` the root, the previous sample and the new one, which then
    /// becomes the previous one. Rates therefore cover the time since the last reading, by
    /// a scrape or by `/v1/usage`.
    pub fn read<R>(&self, f: impl FnOnce(&FsRoot, &Sample, &Sample) -> R) -> R {
        let mut guard = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (sampler, last) = &mut *guard;
        let now = sampler.sample();
        let result = f(sampler.root(), last, &now);
        *last = now;
        result
    }
}

/// The node's assets as detected at start, and the ledger their allocations are read from.
pub struct AssetsSource {
    inventory: Inventory,
    ledger: PathBuf,
}

impl AssetsSource {
    /// Assets from `inventory`, allocations from the ledger file at `ledger`.
    pub fn new(inventory: Inventory, ledger: PathBuf) -> AssetsSource {
        AssetsSource { inventory, ledger }
    }

    /// Reads the ledger now (read-only) and reconciles it with the assets.
    pub fn listing(&self) -> Result<Listing, hypermesh_assets::Error> {
        Listing::look(&self.inventory, &self.ledger, LEDGER_WAIT)
    }
}

/// The eBPF probe: program and map types and kernel facts (no attaching, no helper scan, no
/// mounting), run on first use and kept, since none of it changes while the process runs.
pub struct EbpfSource {
    root: PathBuf,
    probe: OnceLock<Result<Arc<Probe>, String>>,
}

impl EbpfSource {
    /// A probe of the kernel seen under the root directory `root`, not yet run.
    pub fn new(root: &Path) -> EbpfSource {
        EbpfSource { root: root.to_path_buf(), probe: OnceLock::new() }
    }

    /// The probe, run now if it has not been.
    pub fn probe(&self) -> Result<Arc<Probe>, String> {
        self.probe
            .get_or_init(|| {
                let options = ProbeOptions { mount: false, ..ProbeOptions::quick() };
                let root = FsRoot::new(&self.root).map_err(|e| e.to_string())?;
                probe::probe(&root, options).map(Arc::new).map_err(|e| e.to_string())
            })
            .clone()
    }
}
