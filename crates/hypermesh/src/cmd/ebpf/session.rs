//! What every `ebpf run` program shares: starting it (preflight, forced variant, how it
//! attached), collecting for the duration with its self-cost, and the JSON line it prints.

use super::run::Options;
use anyhow::Context;
use hypermesh_ebpf::lifecycle::{self, Loaded, Spec};
use hypermesh_ebpf::programs::Traced;
use hypermesh_ebpf::stats::{self, Measurement, ProgramCost};
use hypermesh_os::FsRoot;
use std::time::{Duration, Instant};

/// A JSON object's fields.
pub(super) type Fields = serde_json::Map<String, serde_json::Value>;

/// Starts the tracing program `T` from its spec, forced to `--variant` when one is given,
/// after the preflight; tells on stderr (unless `--json`) how it attached. Returns it and how
/// long loading and attaching took.
pub(super) fn launch<T: Traced>(root: &FsRoot, o: &Options) -> anyhow::Result<(T, Duration)> {
    let spec = forced(T::spec(), o.variant)?;
    started(start_reported(root, o.json, || T::start_spec(&spec), T::loaded), spec.name, o.variant)
}

/// `spec`, forced to `variant` when one is given.
fn forced(spec: Spec, variant: Option<&str>) -> anyhow::Result<Spec> {
    match variant {
        Some(v) => Ok(spec.forcing(v).with_context(|| format!("--variant {v}"))?),
        None => Ok(spec),
    }
}

/// Starts a program, saying which variant was forced when that is why it failed.
pub(super) fn started<T>(t: anyhow::Result<T>, program: &str, variant: Option<&str>) -> anyhow::Result<T> {
    match variant {
        Some(v) => t.with_context(|| format!("{program} cannot attach as {v} here (forced with --variant)")),
        None => t,
    }
}

/// Runs the preflight (its notes on stderr), starts a program and reports (unless `json`) how
/// it attached; returns it with the setup time.
fn start_reported<T>(
    root: &FsRoot,
    json: bool,
    start: impl FnOnce() -> hypermesh_ebpf::error::Result<T>,
    loaded: impl Fn(&T) -> &Loaded,
) -> anyhow::Result<(T, Duration)> {
    preflight(root)?;
    let started = Instant::now();
    let t = start()?;
    let setup = started.elapsed();
    if !json {
        report_attached(loaded(&t), setup);
    }
    Ok((t, setup))
}

/// Checks that programs can be loaded here, printing on stderr what it had to mount.
pub(super) fn preflight(root: &FsRoot) -> anyhow::Result<()> {
    for note in lifecycle::preflight(root)? {
        eprintln!("note: {note}");
    }
    Ok(())
}

/// Tells on stderr which variant each hook got, why better ones were passed over, and the setup time.
fn report_attached(loaded: &Loaded, setup: Duration) {
    for c in loaded.chosen() {
        let fell: Vec<String> = c.fell_back.iter().map(|(k, why)| format!("{k}: {why}")).collect();
        eprintln!("{}: attached as {}{}", c.hook, c.variant.kind(), fell_back_note(&fell));
    }
    eprintln!("loaded and attached in {:.1} ms", setup.as_secs_f64() * 1e3);
}

/// ` (fell back from A; B)`, or nothing when the best variant attached.
pub(super) fn fell_back_note(fell: &[String]) -> String {
    if fell.is_empty() { String::new() } else { format!(" (fell back from {})", fell.join("; ")) }
}

/// Waits `duration` with BPF run-time statistics on for `ids` (off again after); prints the
/// self-cost line on stderr unless `json`. Returns the cost, or why it is unknown.
pub(super) fn collect(ids: &[u32], duration: Duration, json: bool) -> Result<Vec<ProgramCost>, String> {
    let measuring = Measurement::start(ids);
    std::thread::sleep(duration);
    let cost = measuring.and_then(Measurement::finish).map_err(|e| e.to_string());
    if !json {
        match &cost {
            Ok(c) => eprintln!("{}", stats::summary(c)),
            Err(e) => eprintln!("self-cost unavailable: {e}"),
        }
    }
    cost
}

/// [`collect`] for a loaded program, first saying on stderr (unless `--json`) what it is
/// `doing` for how long.
pub(super) fn collect_loaded(
    loaded: &Loaded,
    o: &Options,
    doing: Option<&str>,
) -> Result<Vec<ProgramCost>, String> {
    if let (Some(doing), false) = (doing, o.json) {
        eprintln!("{doing} for {:?}...", o.duration);
    }
    collect(&loaded.prog_ids(), o.duration, o.json)
}

/// The variant a program attached with, for `--json`: its kind, or the kinds joined by `+`
/// where hooks differ.
fn variant_of(loaded: &Loaded) -> String {
    let mut kinds: Vec<&str> = Vec::new();
    for c in loaded.chosen() {
        if !kinds.contains(&c.variant.kind()) {
            kinds.push(c.variant.kind());
        }
    }
    kinds.join("+")
}

/// [`print_json`] for a program loaded through [`Loaded`]: the variant and `attached` are its
/// hooks' choices.
pub(super) fn print_loaded_json(
    program: &str,
    loaded: &Loaded,
    events: u64,
    cost: &Result<Vec<ProgramCost>, String>,
    fields: serde_json::Value,
) {
    print_json(program, variant_of(loaded), events, serde_json::json!(loaded.chosen()), cost, fields);
}

/// Prints a `run --json` result as one line: program, variant and events counted, the
/// program's own `fields`, then what every program adds: `attached` and `self_cost`.
pub(super) fn print_json(
    program: &str,
    variant: String,
    events: u64,
    attached: serde_json::Value,
    cost: &Result<Vec<ProgramCost>, String>,
    fields: serde_json::Value,
) {
    let mut out = Fields::new();
    out.insert("program".into(), program.into());
    out.insert("variant".into(), variant.into());
    out.insert("events".into(), events.into());
    if let serde_json::Value::Object(fields) = fields {
        out.extend(fields);
    }
    out.insert("attached".into(), attached);
    out.insert("self_cost".into(), cost_json(cost));
    println!("{}", serde_json::Value::Object(out));
}

/// The self-cost for `--json`: the per-program list, or `{"error": ...}`.
fn cost_json(cost: &Result<Vec<ProgramCost>, String>) -> serde_json::Value {
    match cost {
        Ok(c) => serde_json::json!(c),
        Err(e) => serde_json::json!({ "error": e }),
    }
}
