//! `hypermesh assets`: this node's allocatable assets, and allocating / releasing them.

use super::Global;
use super::output::{Table, snake_name};
use anyhow::{Context, anyhow};
use hypermesh_assets::{
    Allocation, AllocationState, AssetKind, AssetManager, Config, Error, HostView, Inventory, LEDGER_FILE,
    Ledger, Listing, LiveState, Reconciliation, Request, Reserve, SharingLevel, Status, default_adapters,
    default_state_dir, format_deadline, now_ms, parse_duration,
};
use hypermesh_os::portable::PortableSampler;
use hypermesh_os::{HostProfile, Section, detect};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `hypermesh assets`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
    /// Print JSON.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(flatten)]
    pub options: AssetOptions,
}

/// Where the ledger lives and what is kept back: shared by `assets` and `serve`.
#[derive(clap::Args)]
pub struct AssetOptions {
    /// Directory of the allocation ledger (default: /var/lib/hypermesh as root, else
    /// $XDG_STATE_HOME/hypermesh or ~/.local/state/hypermesh).
    #[arg(long, global = true, env = "HYPERMESH_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Sharing level of this node's assets.
    #[arg(long, global = true, value_name = "LEVEL", default_value = "private")]
    pub sharing: SharingLevel,
    /// CPUs kept back for the system (e.g. 0.5).
    #[arg(long, global = true, value_name = "CPUS", default_value_t = 0.0)]
    pub reserve_cpus: f64,
    /// Memory kept back for the system (e.g. 1GiB, 0).
    #[arg(long, global = true, value_name = "SIZE", default_value = "1GiB")]
    pub reserve_memory: String,
    /// Percentage of every filesystem kept free.
    #[arg(long, global = true, value_name = "PERCENT", default_value_t = 5.0)]
    pub reserve_storage_percent: f64,
    /// Measure CPU utilisation over this interval (`500ms`, `1s`) before listing; without it
    /// utilisation is unknown (`-`), which keeps the command at a few milliseconds.
    #[arg(long, global = true, value_name = "DURATION", value_parser = super::usage::parse_interval)]
    pub utilisation_interval: Option<Duration>,
}

/// How long to wait for another `hypermesh assets` holding the ledger (one command at most).
pub const LEDGER_WAIT: Duration = Duration::from_secs(10);

impl AssetOptions {
    /// The ledger file.
    pub fn ledger_path(&self) -> anyhow::Result<PathBuf> {
        let dir = self
            .state_dir
            .clone()
            .or_else(default_state_dir)
            .ok_or_else(|| anyhow!("no state directory: set --state-dir (HOME is not set)"))?;
        Ok(dir.join(LEDGER_FILE))
    }

    /// The host's assets as the adapters see them now. The cgroup's CPU quota and memory limit
    /// come from the usage sampler; utilisation too when `--utilisation-interval` is given.
    pub fn inventory(&self, global: &Global) -> anyhow::Result<Inventory> {
        let backend = global.backend()?;
        let profile = detect(
            backend.as_ref(),
            &[Section::Cpu, Section::Numa, Section::Memory, Section::Storage, Section::Gpus],
        );
        self.inventory_of(global, &profile)
    }

    /// The assets of a profile already detected (e.g. `serve`'s), live figures as in
    /// [`inventory`](Self::inventory).
    pub fn inventory_of(&self, global: &Global, profile: &HostProfile) -> anyhow::Result<Inventory> {
        let config = self.config()?;
        let live = match global.backend_kind()? {
            #[cfg(native_linux)]
            hypermesh_os::portable::select::BackendKind::Native => self.native_live(global)?,
            // Without `native_linux` the portable backend is the only one.
            _ => self.portable_live()?,
        };
        Ok(Inventory::collect(&default_adapters(), &HostView { profile, live: &live, config: &config }))
    }

    /// Live figures from the native sampler: cgroup limits, and utilisation when asked for.
    #[cfg(native_linux)]
    fn native_live(&self, global: &Global) -> anyhow::Result<LiveState> {
        use hypermesh_os::usage::{Rates, Sampler};
        let mut sampler = Sampler::new(global.fs_root()?);
        let first = sampler.sample();
        let rates = match self.utilisation_interval {
            Some(interval) => {
                std::thread::sleep(interval);
                Rates::between(&first, &sampler.sample())
            }
            None => Rates::between(&first, &first),
        };
        Ok(LiveState::from_usage(&rates))
    }

    /// Live figures from the portable sampler: utilisation when asked for; it sees no cgroup
    /// limits.
    fn portable_live(&self) -> anyhow::Result<LiveState> {
        let Some(interval) = self.utilisation_interval else { return Ok(LiveState::default()) };
        let mut sampler = PortableSampler::new().context("cannot start the portable sampler")?;
        std::thread::sleep(interval);
        Ok(LiveState::from_portable(&sampler.sample()?))
    }

    fn config(&self) -> anyhow::Result<Config> {
        if !(self.reserve_cpus.is_finite() && self.reserve_cpus >= 0.0) {
            return Err(anyhow!("--reserve-cpus must be a non-negative number"));
        }
        if !(0.0..=100.0).contains(&self.reserve_storage_percent) {
            return Err(anyhow!("--reserve-storage-percent must be between 0 and 100"));
        }
        let memory_bytes = match self.reserve_memory.trim() {
            "0" => 0,
            text => AssetKind::Memory.parse_amount(text).map_err(|e| anyhow!("--reserve-memory: {e}"))?,
        };
        Ok(Config {
            reserve: Reserve {
                cpu_millis: (self.reserve_cpus * 1000.0).round() as u64,
                memory_bytes,
                storage_fraction: self.reserve_storage_percent / 100.0,
            },
            sharing: self.sharing,
            ..Config::default()
        })
    }
}

/// What to do with the assets (list them when none is given).
#[derive(clap::Subcommand)]
pub enum Action {
    /// Grant assets to a holder for a time.
    Allocate(AllocateArgs),
    /// Release an allocation (active or lost) by id.
    Release {
        /// Allocation id.
        id: u64,
    },
}

/// Arguments of `hypermesh assets allocate`.
#[derive(clap::Args)]
pub struct AllocateArgs {
    /// Kind of asset: cpu, gpu, memory, storage.
    #[arg(long)]
    pub kind: AssetKind,
    /// Amount: CPUs (1.5), GPUs (1), or a size for memory/storage (8GiB).
    #[arg(long)]
    pub count: String,
    /// Who holds the allocation.
    #[arg(long)]
    pub holder: String,
    /// How long (90s, 1h, 2h 30m).
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Duration,
    /// Scope the request comes from: private, private_network, p2p, public_network, full_public.
    #[arg(long, default_value = "private")]
    pub scope: SharingLevel,
    /// Only assets on this NUMA node.
    #[arg(long)]
    pub numa: Option<u32>,
    /// Only this asset id.
    #[arg(long)]
    pub asset: Option<String>,
    /// Only solid-state storage.
    #[arg(long)]
    pub ssd: bool,
}

/// Runs the command. Exit 2 when a request is refused.
pub fn run(global: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let inventory = args.options.inventory(global)?;
    let path = args.options.ledger_path()?;
    let Some(action) = &args.action else {
        let listing = Listing::look(&inventory, &path, LEDGER_WAIT)?;
        warn(&listing.reconciliation);
        if args.json {
            println!("{}", serde_json::to_string_pretty(&listing)?);
        } else {
            print!("{}", render(&listing.status, &inventory));
        }
        return Ok(ExitCode::SUCCESS);
    };
    let (manager, report) = AssetManager::open_inventory(&inventory, Ledger::open_wait(&path, LEDGER_WAIT)?)?;
    warn(&report);
    match action {
        Action::Allocate(a) => {
            let amount = a.kind.parse_amount(&a.count).map_err(|e| anyhow!("--count: {e}"))?;
            let request = Request {
                kind: a.kind,
                amount,
                holder: a.holder.clone(),
                duration: a.duration,
                scope: a.scope,
                numa_node: a.numa,
                asset: a.asset.clone(),
                solid_state: a.ssd,
            };
            match manager.allocate(&request) {
                Ok(allocation) => {
                    print_allocation(args.json, "allocated", &allocation)?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(Error::Refused(mut reason)) => {
                    for p in inventory.problems.iter().filter(|p| p.kind == a.kind) {
                        reason += &format!(" ({})", p.message);
                    }
                    if args.json {
                        println!("{}", serde_json::to_string_pretty(&json!({ "refused": reason }))?);
                    }
                    eprintln!("hypermesh: refused: {reason}");
                    Ok(ExitCode::from(2))
                }
                Err(e) => Err(e.into()),
            }
        }
        Action::Release { id } => {
            let allocation = manager.release(*id)?;
            print_allocation(args.json, "released", &allocation)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Loud notes on stderr: lost allocations, over-commitment, unverified allocations.
fn warn(report: &Reconciliation) {
    for a in &report.lost {
        let reason = match &a.state {
            AllocationState::Lost { reason, .. } => reason.as_str(),
            AllocationState::Active => "",
        };
        eprintln!("hypermesh: LOST allocation {} of {} ({} {}): {reason}", a.id, a.holder, amount(a), a.kind);
    }
    for o in &report.overcommitted {
        eprintln!(
            "hypermesh: warning: {} holds {} but may hand out only {} now",
            o.asset, o.allocated, o.allocatable
        );
    }
    for a in &report.unverified {
        eprintln!(
            "hypermesh: warning: allocation {} of {} not verified: its {} assets could not be seen",
            a.id, a.holder, a.kind
        );
    }
}

fn amount(a: &Allocation) -> String {
    a.kind.format_amount(a.amount())
}

fn print_allocation(json: bool, verb: &str, a: &Allocation) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(a).context("serialising the allocation")?);
    } else {
        let on: Vec<&str> = a.parts.iter().map(|p| p.asset.as_str()).collect();
        println!(
            "{verb} {}: {} {} on {} for {}, until {}",
            a.id,
            amount(a),
            a.kind,
            on.join(", "),
            a.holder,
            format_deadline(a.expires_ms, now_ms())
        );
    }
    Ok(())
}

/// Renders assets, allocations and what could not be seen as tables.
fn render(status: &Status, inventory: &Inventory) -> String {
    let mut t = Table::new(&[
        "ASSET",
        "KIND",
        "NUMA",
        "SHARING",
        "CAPACITY",
        "ALLOCATABLE",
        "ALLOCATED",
        "FREE",
        "UTIL",
        "HEALTH",
        "DESCRIPTION",
    ]);
    for s in &status.assets {
        let a = &s.asset;
        let mut health = snake_name(a.health.state).unwrap_or_default();
        if !a.health.reasons.is_empty() {
            health += &format!(" ({})", a.health.reasons.join(", "));
        }
        t.row(vec![
            a.id.clone(),
            a.kind.to_string(),
            a.numa_node.map(|n| n.to_string()).unwrap_or_else(|| "-".into()),
            a.sharing.to_string(),
            a.kind.format_amount(a.capacity),
            a.kind.format_amount(a.allocatable),
            a.kind.format_amount(s.allocated),
            a.kind.format_amount(s.free),
            a.utilisation.map(|u| format!("{:.0}%", u * 100.0)).unwrap_or_else(|| "-".into()),
            health,
            a.description.clone(),
        ]);
    }
    let mut out = if status.assets.is_empty() { "Assets: none found\n".to_string() } else { t.render() };
    if !status.allocations.is_empty() {
        let now = now_ms();
        let mut t = Table::new(&["ALLOCATION", "HOLDER", "KIND", "AMOUNT", "ON", "EXPIRES", "STATE"]);
        for a in &status.allocations {
            let state = match &a.state {
                AllocationState::Active => "active".to_string(),
                AllocationState::Lost { reason, .. } => format!("LOST ({reason})"),
            };
            let on: Vec<&str> = a.parts.iter().map(|p| p.asset.as_str()).collect();
            t.row(vec![
                a.id.to_string(),
                a.holder.clone(),
                a.kind.to_string(),
                amount(a),
                on.join(", "),
                format_deadline(a.expires_ms, now),
                state,
            ]);
        }
        out += "\n";
        out += &t.render();
    }
    if !inventory.problems.is_empty() {
        out += "\nCould not see:\n";
        for p in &inventory.problems {
            out += &format!("  {}: {}\n", p.kind, p.message);
        }
    }
    out
}
