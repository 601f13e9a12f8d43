//! `hypermesh watch`: usage every interval, as JSON lines for tools or a refreshing table.
//!
//! Filesystem space is not part of `watch` (statvfs can block on a dead mount and sizes change
//! slowly); `hypermesh usage` shows it.

use super::Global;
use super::usage::portable;
use anyhow::Context;
use hypermesh_os::portable::PortableSampler;
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Instant;

/// Arguments of `hypermesh watch`: those of `usage`.
pub type Args = super::usage::Args;

/// Runs until Ctrl-C (SIGINT) or until stdout is closed.
pub fn run(global: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let (stop_tx, stop_rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    })?;
    let mut reading = match global.backend_kind()? {
        #[cfg(native_linux)]
        hypermesh_os::select::BackendKind::Native => native(global, args.json)?,
        // Without `native_linux` the portable backend is the only one.
        _ => portable_readings(args.json)?,
    };
    let refresh = !args.json && std::io::stdout().is_terminal();
    let mut next = Instant::now() + args.interval;
    let mut line = Vec::with_capacity(8192);
    loop {
        match stop_rx.recv_timeout(next.saturating_duration_since(Instant::now())) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        // Stay on the grid; after a long stall (suspend) start a new one instead of bursting.
        next += args.interval;
        if next < Instant::now() {
            next = Instant::now() + args.interval;
        }
        line.clear();
        if refresh {
            line.extend_from_slice(b"\x1b[H\x1b[2J");
        }
        reading(&mut line)?;
        let mut out = std::io::stdout().lock();
        if out.write_all(&line).and_then(|()| out.flush()).is_err() {
            break; // stdout closed (e.g. `| head`): a normal end for a stream.
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Appends the next reading to a buffer: a JSON line, or tables.
type Readings = Box<dyn FnMut(&mut Vec<u8>) -> anyhow::Result<()>>;

/// Readings of the native sampler: rates between consecutive samples.
#[cfg(native_linux)]
fn native(global: &Global, json: bool) -> anyhow::Result<Readings> {
    use hypermesh_os::usage::{Rates, Sampler};
    let mut sampler = Sampler::new(global.fs_root()?);
    let mut prev = sampler.sample();
    Ok(Box::new(move |line| {
        let cur = sampler.sample();
        let rates = Rates::between(&prev, &cur);
        prev = cur;
        append(line, json, &rates, |r| super::usage::native::render(r, None))
    }))
}

/// Readings of the portable sampler (sysinfo).
fn portable_readings(json: bool) -> anyhow::Result<Readings> {
    let mut sampler = PortableSampler::new().context("cannot start the portable sampler")?;
    Ok(Box::new(move |line| append(line, json, &sampler.sample()?, portable::render)))
}

/// Appends `value` as one JSON line, or rendered.
fn append<T: Serialize>(
    line: &mut Vec<u8>,
    json: bool,
    value: &T,
    render: impl Fn(&T) -> String,
) -> anyhow::Result<()> {
    if json {
        serde_json::to_writer(&mut *line, value)?;
    } else {
        line.extend_from_slice(render(value).as_bytes());
    }
    line.push(b'\n');
    Ok(())
}
