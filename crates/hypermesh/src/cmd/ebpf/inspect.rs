//! `ebpf probe`, `check`, `list`, `unpin` and `programs`: what the kernel allows, what is loaded
//! and pinned, and how each suite program attaches here.

use crate::cmd::output::{Table, key_values, opt};
use hypermesh_ebpf::check;
use hypermesh_ebpf::lifecycle::{self, Loaded};
use hypermesh_ebpf::probe::mounts::Mounts;
use hypermesh_ebpf::probe::{self, Probe, ProbeOptions, caps::Capabilities};
use hypermesh_ebpf::programs::xdp_counter;
use hypermesh_os::FsRoot;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// How one suite program attaches (JSON) and its text lines, for `programs`.
type SuiteRow = (serde_json::Value, Vec<String>);

/// `ebpf probe`: prints the probe; fails when the capabilities to load programs are missing.
pub(super) fn probe(root: &FsRoot, json: bool, quick: bool) -> anyhow::Result<ExitCode> {
    let opts = if quick { ProbeOptions::quick() } else { ProbeOptions::full() };
    let p = probe::probe(root, opts)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&p)?);
    } else {
        print!("{}", render_probe(&p));
    }
    // Without the capabilities every load test above was refused: say why on stderr and
    // fail, as `bpftool feature probe` does, so scripts do not take "denied" for absent.
    if let Err(e) = lifecycle::preflight(root) {
        eprintln!("hypermesh: probe incomplete: {e}");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// `ebpf check FILE`: the instruction counts and problems; fails when the kernel would reject it.
pub(super) fn check(root: &FsRoot, file: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let report = check::check_file(file, check::insn_limit(&Capabilities::read(root)?))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for (sec, n) in &report.programs {
            println!("{sec}: {n} instructions");
        }
        for p in &report.problems {
            let at = p.index.map(|i| format!(" insn {i}")).unwrap_or_default();
            println!("{}{at}: {}", p.section.as_deref().unwrap_or("program"), p.message);
        }
        println!("{}", if report.ok() { "ok" } else { "REJECTED" });
    }
    Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `ebpf list`: every loaded program (ours marked) and our pins.
pub(super) fn list(root: &FsRoot, json: bool) -> anyhow::Result<ExitCode> {
    let progs = lifecycle::list_programs()?;
    let pins =
        Mounts::read(root)?.first("bpf").map(|b| lifecycle::list_pins(Path::new(b))).unwrap_or_default();
    if json {
        println!("{}", serde_json::json!({ "programs": progs, "pins": pins }));
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new(&["ID", "NAME", "TYPE", "OURS", "RUNS", "RUN_NS"]);
    for p in &progs {
        let ty = probe::types::PROG_TYPES.get(p.prog_type as usize).copied().unwrap_or("?");
        let ours = if p.ours { "*" } else { "" };
        t.row(vec![
            p.id.to_string(),
            p.name.clone(),
            ty.into(),
            ours.into(),
            p.run_count.to_string(),
            p.run_time_ns.to_string(),
        ]);
    }
    print!("{}", t.render());
    for p in &pins {
        println!("pinned: {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `ebpf unpin`: removes every pin under bpffs/hypermesh.
pub(super) fn unpin(root: &FsRoot) -> anyhow::Result<ExitCode> {
    let Some(bpffs) = Mounts::read(root)?.first("bpf").map(PathBuf::from) else {
        println!("bpffs is not mounted: nothing pinned");
        return Ok(ExitCode::SUCCESS);
    };
    let removed = lifecycle::unpin_all(&bpffs)?;
    for p in &removed {
        println!("unpinned {}", p.display());
    }
    if removed.is_empty() {
        println!("nothing pinned under {}", bpffs.join(lifecycle::PIN_DIR).display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `ebpf programs`: loads each suite program briefly and tells how it attaches; fails when one
/// cannot.
pub(super) fn programs(json: bool) -> anyhow::Result<ExitCode> {
    let rows = suite_rows();
    if json {
        let out: Vec<_> = rows
            .iter()
            .map(|(name, a)| match a {
                Ok((c, _)) => serde_json::json!({ "name": name, "attached": c }),
                Err(e) => serde_json::json!({ "name": name, "error": e }),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for (name, a) in &rows {
            match a {
                Ok((_, lines)) => lines.iter().for_each(|l| println!("{name:<11} {l}")),
                Err(e) => println!("{name:<11} unavailable: {e}"),
            }
        }
    }
    Ok(if rows.iter().all(|r| r.1.is_ok()) { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Each suite program, by name, with how it attached or why it could not.
fn suite_rows() -> Vec<(&'static str, Result<SuiteRow, String>)> {
    let mut rows: Vec<(&str, Result<SuiteRow, String>)> = Vec::new();
    for spec in hypermesh_ebpf::programs::suite() {
        let attached = Loaded::load(&spec).map_err(|e| e.to_string()).map(|l| {
            let lines = l.chosen().iter().map(|c| {
                let fell: Vec<String> = c.fell_back.iter().map(|(k, why)| format!("{k}: {why}")).collect();
                format!("{:<20} {:<11} {}", c.hook, c.variant.kind(), fell.join("; "))
            });
            (serde_json::json!(l.chosen()), lines.collect())
        });
        rows.push((spec.name, attached));
    }
    let modes = "native if the interface's driver supports XDP, else generic";
    let xdp = xdp_counter::verify_loads().map_err(|e| e.to_string()).map(|_| {
        let json = serde_json::json!([{ "hook": "receive", "variant": { "kind": "xdp" }, "modes": modes }]);
        (json, vec![format!("{:<20} {:<11} {modes}", "receive (--interface)", "xdp")])
    });
    rows.push(("xdp-counter", xdp));
    rows
}

/// The probe as human tables.
fn render_probe(p: &Probe) -> String {
    let caps: Vec<String> =
        p.capabilities.iter().map(|(n, v)| format!("{n}{}", if *v { "" } else { "(missing)" })).collect();
    let mounts: Vec<String> = p
        .mounts
        .points
        .iter()
        .map(|(fs, at)| format!("{fs}={}", if at.is_empty() { "-".to_string() } else { at.join(",") }))
        .collect();
    let mut out = key_values(
        "Kernel",
        &[
            ("release", p.kernel.release.clone()),
            ("config", opt(p.kernel.config_source.clone())),
            ("btf", if p.btf.vmlinux { "vmlinux".into() } else { "none".into() }),
            (
                "jit",
                format!(
                    "enable={} harden={} always_on={}",
                    opt(p.jit.enable),
                    opt(p.jit.harden),
                    opt(p.jit.always_on)
                ),
            ),
            (
                "lockdown",
                p.lockdown.clone().unwrap_or_else(|| format!("unknown ({})", opt(p.details.get("lockdown")))),
            ),
            ("unprivileged_bpf_disabled", opt(p.unprivileged_bpf_disabled)),
            ("bpf_stats_enabled", opt(p.bpf_stats_enabled)),
            ("capabilities", caps.join(" ")),
            ("mounts", mounts.join(" ")),
        ],
    );
    for note in &p.mounts.mounted {
        out.push_str(&format!("  note: {note}\n"));
    }
    for (title, section, map) in [
        ("ATTACH", "attach", &p.attach),
        ("PROGRAM TYPE", "program_types", &p.program_types),
        ("MAP TYPE", "map_types", &p.map_types),
    ] {
        let mut t = Table::new(&[title, "VERDICT", "WHY"]);
        for (name, f) in map {
            let why = p.details.get(&format!("{section}.{name}")).cloned().unwrap_or_default();
            t.row(vec![name.clone(), f.verdict.as_str().into(), why]);
        }
        out.push('\n');
        out.push_str(&t.render());
    }
    let mut t = Table::new(&["XDP DEVICE", "PHYSICAL", "NATIVE", "FEATURES"]);
    for d in &p.xdp_devices {
        let name = d.name.clone().unwrap_or_else(|| format!("ifindex {}", d.ifindex));
        t.row(vec![name, d.physical.to_string(), d.native().to_string(), d.features.join(",")]);
    }
    out.push('\n');
    match p.details.get("xdp_devices") {
        Some(why) => out.push_str(&format!("XDP DEVICE: unknown ({why})\n")),
        None => out.push_str(&t.render()),
    }
    if let Some(h) = &p.helpers {
        out.push_str("\nHELPERS (per program type)\n");
        for (t, list) in h {
            out.push_str(&format!("  {t}: {} helpers\n", list.len()));
        }
    }
    out
}
