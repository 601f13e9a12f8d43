//! `hypermesh assets`: this node's allocatable assets, and allocating / releasing them.

use super::Global;
use super::output::{Table, snake_name};
use anyhow::{Context, anyhow};
use hypermesh_assets::text::{check_name, escape};
use hypermesh_assets::{
    Allocation, AllocationState, AssetKind, AssetManager, Config, Error, HostView, Inventory, LEDGER_FILE,
    Ledger, Listing, LiveState, Reconciliation, Recovery, Request, Reserve, SharingLevel, Status,
    backup_path, default_adapters, default_state_dir, format_deadline, now_ms, parse_duration,
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
    /// come from the usage sampler; utilisation too when `--utilisation-interval` is given. On
    /// Linux, assets whose device fails its health checks (`hypermesh health`) are marked
    /// unhealthy.
    pub fn inventory(&self, global: &Global) -> anyhow::Result<Inventory> {
        let backend = global.backend()?;
        let profile = detect(
            backend.as_ref(),
            &[Section::Cpu, Section::Numa, Section::Memory, Section::Storage, Section::Gpus],
        );
        #[allow(unused_mut)]
        let mut inventory = self.inventory_of(global, &profile)?;
        #[cfg(native_linux)]
        {
            let report = hypermesh_os::health::check(&global.fs_root()?);
            hypermesh_assets::device_health::apply(&mut inventory, &profile, &report);
        }
        Ok(inventory)
    }

    /// The assets of a profile already detected (e.g. `serve`'s), live figures as in
    /// [`inventory`](Self::inventory).
    pub fn inventory_of(&self, global: &Global, profile: &HostProfile) -> anyhow::Result<Inventory> {
        let config = self.config()?;
        let live = match global.backend_kind()? {
            #[cfg(native_linux)]
            hypermesh_os::select::BackendKind::Native => self.native_live(global)?,
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
    /// Release an allocation (active, unavailable or lost) by id.
    Release {
        /// Allocation id.
        id: u64,
    },
    /// Declare an allocation's hardware gone: it stops counting against capacity and stays
    /// listed until released. Nothing is ever marked lost otherwise.
    MarkLost {
        /// Allocation id.
        id: u64,
        /// Why (printable, at most 256 bytes).
        #[arg(long, value_parser = reason)]
        reason: String,
    },
    /// Replace a corrupt ledger by the backup kept beside it (assets.redb.bak), or by an empty
    /// one with --empty; the corrupt file is kept as assets.redb.corrupt-SECONDS. Refused while
    /// the ledger verifies. Run it with no allocation in progress.
    Recover {
        /// Start from an empty ledger instead of the backup: every allocation is forgotten.
        #[arg(long)]
        empty: bool,
    },
}

fn holder(text: &str) -> Result<String, String> {
    check_name("holder", text).map(|()| text.to_string())
}

fn reason(text: &str) -> Result<String, String> {
    check_name("reason", text).map(|()| text.to_string())
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
    /// Who holds the allocation (printable, at most 256 bytes).
    #[arg(long, value_parser = holder)]
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
    let path = args.options.ledger_path()?;
    run_on(global, args, &path).map_err(|e| match e.downcast_ref::<Error>() {
        Some(Error::Corrupt { .. }) => e.context(format!(
            "the ledger does not verify; `hypermesh assets recover` puts back the last good copy ({}), \
             `hypermesh assets recover --empty` starts afresh; both keep the corrupt file",
            backup_path(&path).display()
        )),
        _ => e,
    })
}

fn run_on(global: &Global, args: &Args, path: &std::path::Path) -> anyhow::Result<ExitCode> {
    if let Some(Action::Recover { empty }) = &args.action {
        let how = if *empty { Recovery::Empty } else { Recovery::Backup };
        let contents = Ledger::recover(path, how, LEDGER_WAIT)?;
        for note in &contents.notes {
            eprintln!("hypermesh: note: {}", escape(note));
        }
        println!("recovered {}: {} allocation(s)", path.display(), contents.allocations.len());
        for a in &contents.allocations {
            println!("  {}: {} {} for {}", a.id, amount(a), a.kind, escape(&a.holder));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let inventory = args.options.inventory(global)?;
    let Some(action) = &args.action else {
        let listing = Listing::look(&inventory, path, LEDGER_WAIT)?;
        warn(&listing.reconciliation, &listing.status);
        if args.json {
            println!("{}", serde_json::to_string_pretty(&listing)?);
        } else {
            print!("{}", render(&listing.status, &inventory));
        }
        return Ok(ExitCode::SUCCESS);
    };
    let open = || -> anyhow::Result<AssetManager> {
        let (manager, report) =
            AssetManager::open_inventory(&inventory, Ledger::open_wait(path, LEDGER_WAIT)?)?;
        warn(&report, &manager.status());
        Ok(manager)
    };
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
            // Refused before the ledger is even opened.
            request.validate(now_ms())?;
            match open()?.allocate(&request) {
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
                    eprintln!("hypermesh: refused: {}", escape(&reason));
                    Ok(ExitCode::from(2))
                }
                Err(e) => Err(e.into()),
            }
        }
        Action::Release { id } => {
            let allocation = open()?.release(*id)?;
            print_allocation(args.json, "released", &allocation)?;
            Ok(ExitCode::SUCCESS)
        }
        Action::MarkLost { id, reason } => {
            let allocation = open()?.mark_lost(*id, reason, now_ms())?;
            print_allocation(args.json, "marked lost", &allocation)?;
            Ok(ExitCode::SUCCESS)
        }
        Action::Recover { .. } => Err(anyhow!("recover is run before the ledger is opened")),
    }
}

/// Loud notes on stderr: unavailable allocations, over-commitment, unverified allocations,
/// what reading the ledger found. Every name from the ledger is escaped.
fn warn(report: &Reconciliation, status: &Status) {
    for note in &report.notes {
        eprintln!("hypermesh: note: {}", escape(note));
    }
    for f in &status.flagged {
        eprintln!(
            "hypermesh: warning: allocation {} holds {}, which is unhealthy ({}); it keeps what it holds \
             until released",
            f.allocation,
            f.asset,
            escape(&f.reasons.join(", "))
        );
    }
    for u in &status.unavailable {
        eprintln!(
            "hypermesh: warning: allocation {} is on assets not seen now ({}); it keeps counting against {} \
             until released or marked lost (`hypermesh assets mark-lost {} --reason ...`)",
            u.allocation,
            escape(&u.missing.join(", ")),
            if u.counted_against.is_empty() {
                "nothing seen now".into()
            } else {
                u.counted_against.join(", ")
            },
            u.allocation
        );
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
            a.id,
            escape(&a.holder),
            a.kind
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
            escape(&on.join(", ")),
            escape(&a.holder),
            format_deadline(a.expires_ms, now_ms())
        );
    }
    Ok(())
}

/// An allocation's state for the table: active (noting unhealthy assets), unavailable (with
/// the assets not seen) or lost (with why).
fn allocation_state(status: &Status, a: &Allocation) -> String {
    let unavailable = status.unavailable.iter().find(|u| u.allocation == a.id);
    let flagged: Vec<String> = status
        .flagged
        .iter()
        .filter(|f| f.allocation == a.id)
        .map(|f| format!("{}: {}", f.asset, f.reasons.join(", ")))
        .collect();
    match (&a.state, unavailable) {
        (AllocationState::Active, None) if !flagged.is_empty() => {
            format!("active, on unhealthy asset ({})", flagged.join("; "))
        }
        (AllocationState::Active, None) => "active".to_string(),
        (AllocationState::Active, Some(u)) => {
            format!("unavailable ({} not seen)", u.missing.join(", "))
        }
        (AllocationState::Lost { reason, .. }, _) => format!("lost ({reason})"),
    }
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
            let state = allocation_state(status, a);
            let on: Vec<&str> = a.parts.iter().map(|p| p.asset.as_str()).collect();
            t.row(vec![
                a.id.to_string(),
                escape(&a.holder).into_owned(),
                a.kind.to_string(),
                amount(a),
                escape(&on.join(", ")).into_owned(),
                format_deadline(a.expires_ms, now),
                escape(&state).into_owned(),
            ]);
        }
        out += "\n";
        out += &t.render();
    }
    if !inventory.notes.is_empty() {
        out += "\nNotes:\n";
        for n in &inventory.notes {
            out += &format!("  {n}\n");
        }
    }
    if !inventory.problems.is_empty() {
        out += "\nCould not see:\n";
        for p in &inventory.problems {
            out += &format!("  {}: {}\n", p.kind, p.message);
        }
    }
    out
}
