//! `hypermesh ebpf`: probe what this kernel allows, check bytecode, run programs, list, unpin.

use super::Global;
use super::output::{Table, key_values, opt};
use hypermesh_ebpf::probe::{self, Probe, ProbeOptions};
use std::process::ExitCode;

/// Arguments of `hypermesh ebpf`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// What this kernel lets this process do: types, helpers, attach hooks, settings.
    Probe {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Skip the helper scan (for start-up decisions).
        #[arg(long)]
        quick: bool,
    },
}

/// Runs the command.
pub fn run(global: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let root = global.fs_root()?;
    match &args.command {
        Command::Probe { json, quick } => {
            let opts = if *quick { ProbeOptions::quick() } else { ProbeOptions::full() };
            let p = probe::probe(&root, opts)?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&p)?);
            } else {
                print!("{}", render_probe(&p));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

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
    if let Some(h) = &p.helpers {
        out.push_str("\nHELPERS (per program type)\n");
        for (t, list) in h {
            out.push_str(&format!("  {t}: {} helpers\n", list.len()));
        }
    }
    out
}
