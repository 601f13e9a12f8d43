//! What the collectors and the JSON routes read: the cached inventory, one usage sampler shared
//! by `/metrics` and `/v1/usage`, the asset view (marked with the cached hardware health), and
//! the eBPF probe (run once, on first use).

use crate::collectors::health::HealthSource;
use hypermesh_assets::{Inventory, Listing};
use hypermesh_ebpf::probe::{self, Probe, ProbeOptions};
use hypermesh_os::health::HealthReport;
use hypermesh_os::usage::{Sample, Sampler};
use hypermesh_os::{FsRoot, HostProfile};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

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
    /// The root directory everything is read under (`/` for the live host).
    pub root_dir: PathBuf,
    /// Hardware health, read at most once a minute (shared with the asset view).
    pub health: Arc<crate::collectors::health::HealthSource>,
    /// The eBPF probe, once run.
    ebpf_probe: OnceLock<Result<Arc<Probe>, String>>,
}

impl Sources {
    /// Sources reading under `root`; the asset view as given.
    pub fn new(root: FsRoot, profile: Arc<HostProfile>, assets: Result<AssetsSource, String>) -> Sources {
        let root_dir = root.dir().to_path_buf();
        let health = Arc::new(crate::collectors::health::HealthSource::new(root_dir.clone()));
        let assets = assets.map(|a| a.with_health(profile.clone(), health.clone()));
        Sources {
            usage: UsageSource::new(root),
            profile,
            assets,
            root_dir,
            health,
            ebpf_probe: OnceLock::new(),
        }
    }

    /// The eBPF probe of this kernel for this process: program and map types and kernel facts
    /// (no attaching, no helper scan, no mounting), run on first use and kept, since none of it
    /// changes while the process runs.
    pub fn ebpf_probe(&self) -> Result<Arc<Probe>, String> {
        self.ebpf_probe
            .get_or_init(|| {
                let options = ProbeOptions { mount: false, ..ProbeOptions::quick() };
                let root = FsRoot::new(&self.root_dir).map_err(|e| e.to_string())?;
                probe::probe(&root, options).map(Arc::new).map_err(|e| e.to_string())
            })
            .clone()
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
    /// The profile the inventory came from and the health source that marks its assets.
    health: Option<(Arc<HostProfile>, Arc<HealthSource>)>,
    /// The last listing, the ledger file's state and the health report it was made with.
    cached: Mutex<Option<Cached>>,
}

/// A listing with what it was made from.
struct Cached {
    stamp: LedgerStamp,
    health: Option<Arc<HealthReport>>,
    listing: Arc<Listing>,
}

/// What tells that the ledger file changed: modification time and size.
type LedgerStamp = (Option<SystemTime>, u64);

impl AssetsSource {
    /// Assets from `inventory`, allocations from the ledger file at `ledger`.
    pub fn new(inventory: Inventory, ledger: PathBuf) -> AssetsSource {
        AssetsSource { inventory, ledger, health: None, cached: Mutex::new(None) }
    }

    /// The same, with assets whose device fails its health checks marked unhealthy, from
    /// `health`'s report (read at most once a minute, shared with `/metrics` and `/v1/health`).
    pub fn with_health(self, profile: Arc<HostProfile>, health: Arc<HealthSource>) -> AssetsSource {
        AssetsSource { health: Some((profile, health)), ..self }
    }

    /// The assets with their allocations. The ledger is read again (read-only) and reconciled
    /// when its file changed, an allocation's deadline passed or a new health report came since
    /// the last read; otherwise the last listing is still exact and is returned as it is.
    pub fn listing(&self) -> Result<Arc<Listing>, hypermesh_assets::Error> {
        let stamp = std::fs::metadata(&self.ledger).map(|m| (m.modified().ok(), m.len())).ok();
        let report = self.health.as_ref().map(|(_, health)| health.report());
        let report_now = report.as_ref().and_then(|r| r.as_ref().ok().cloned());
        let same_report = |seen: &Option<Arc<HealthReport>>| match (seen, &report_now) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        let mut cached = self.cached.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let (Some(stamp), Some(seen)) = (stamp, cached.as_ref())
            && stamp == seen.stamp
            && same_report(&seen.health)
            && !deadline_passed(&seen.listing)
        {
            return Ok(seen.listing.clone());
        }
        let mut inventory = self.inventory.clone();
        if let (Some((profile, _)), Some(report)) = (&self.health, report) {
            match report {
                Ok(report) => hypermesh_assets::device_health::apply(&mut inventory, profile, &report),
                Err(e) => inventory.notes.push(format!("device health not read: {e}")),
            }
        }
        let listing = Arc::new(Listing::look(&inventory, &self.ledger, LEDGER_WAIT)?);
        // Opening the ledger allocates more than the listing keeps.
        hypermesh_os::heap::release_free();
        // Stamp after reading (a listing never creates the file: with none, each scrape reads again).
        *cached = std::fs::metadata(&self.ledger).ok().map(|m| Cached {
            stamp: (m.modified().ok(), m.len()),
            health: report_now,
            listing: listing.clone(),
        });
        Ok(listing)
    }
}

/// True when an active allocation of `listing` has expired since it was read.
fn deadline_passed(listing: &Listing) -> bool {
    let now = hypermesh_assets::now_ms();
    listing.status.allocations.iter().any(|a| a.is_active() && a.expires_ms <= now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hypermesh_assets::{Config, HealthState, HostView, LiveState, default_adapters};
    use hypermesh_os::model::Memory;

    /// The asset view marks what the shared health report finds failing: here the memory of a
    /// host whose only EDAC controller counts uncorrected errors.
    #[test]
    fn the_asset_view_marks_assets_from_the_shared_health_report() {
        let dir = tempfile::tempdir().unwrap();
        let mc = dir.path().join("sys/devices/system/edac/mc/mc0");
        std::fs::create_dir_all(&mc).unwrap();
        std::fs::write(mc.join("ue_count"), "2\n").unwrap();
        let profile = Arc::new(HostProfile {
            memory: Some(Memory { total_bytes: 8 << 30, ..Default::default() }),
            ..Default::default()
        });
        let config = Config::default();
        let host = HostView { profile: &profile, live: &LiveState::default(), config: &config };
        let inventory = Inventory::collect(&default_adapters(), &host);
        let health = Arc::new(HealthSource::new(dir.path().to_path_buf()));
        let source =
            AssetsSource::new(inventory, dir.path().join("assets.redb")).with_health(profile, health);
        let listing = source.listing().unwrap();
        let memory = listing.status.assets.iter().find(|s| s.asset.id == "memory:host").unwrap();
        assert_eq!(memory.asset.health.state, HealthState::Critical);
        assert!(memory.asset.health.reasons[0].starts_with("mc0: "), "{:?}", memory.asset.health);
    }
}
