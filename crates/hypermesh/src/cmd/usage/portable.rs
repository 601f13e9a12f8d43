//! `hypermesh usage` from the portable sampler (sysinfo): CPU, memory and network rates, on
//! every system; the only one without the `native_linux` cfg.

use super::{Args, pct, per_sec};
use crate::cmd::output::{Table, bytes, key_values};
use anyhow::Context;
use hypermesh_os::portable::{PortableSampler, PortableUsage};
use std::io::Write;
use std::process::ExitCode;

/// Samples over `args.interval` and prints the rates.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let mut sampler = PortableSampler::new().context("cannot start the portable sampler")?;
    std::thread::sleep(args.interval);
    let usage = sampler.sample()?;
    let text = if args.json { serde_json::to_string_pretty(&usage)? + "\n" } else { render(&usage) };
    // A closed stdout (`| head`) is not an error worth a message.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(ExitCode::SUCCESS)
}

/// Renders a portable reading as human tables (shared with `watch`).
pub fn render(u: &PortableUsage) -> String {
    let mut out = format!("Interval {:.2} s (portable backend: sysinfo)\n\n", u.interval_seconds);
    let cpus = u.cpu.per_cpu.len();
    out += &key_values("CPU", &[("busy", format!("{} of {cpus} CPUs", pct(Some(u.cpu.total_percent))))]);
    let mut t = Table::new(&["  CPU", "BUSY"]);
    for c in &u.cpu.per_cpu {
        t.row(vec![format!("  cpu{}", c.cpu), pct(Some(c.total_percent))]);
    }
    out += &t.render();
    out.push('\n');
    let m = &u.memory;
    out += &key_values("Memory", &[("used", bytes(m.used_bytes)), ("available", bytes(m.available_bytes))]);
    out.push('\n');
    let mut t = Table::new(&["INTERFACE", "RX", "TX"]);
    for n in &u.network {
        t.row(vec![n.name.clone(), per_sec(n.rx_bytes_per_sec), per_sec(n.tx_bytes_per_sec)]);
    }
    out += &t.render();
    out
}
