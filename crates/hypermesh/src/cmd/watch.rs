//! `hypermesh watch`: usage every interval, as JSON lines for tools or a refreshing table.
//!
//! Filesystem space is not part of `watch` (statvfs can block on a dead mount and sizes change
//! slowly); `hypermesh usage` shows it.

use super::Global;
use super::usage::render;
use hypermesh_os::usage::{Rates, Sampler};
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
    let mut sampler = Sampler::new(global.fs_root()?);
    let refresh = !args.json && std::io::stdout().is_terminal();
    let mut prev = sampler.sample();
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
        let cur = sampler.sample();
        let rates = Rates::between(&prev, &cur);
        prev = cur;
        line.clear();
        if args.json {
            serde_json::to_writer(&mut line, &rates)?;
            line.push(b'\n');
        } else {
            if refresh {
                line.extend_from_slice(b"\x1b[H\x1b[2J");
            }
            line.extend_from_slice(render(&rates, None).as_bytes());
            line.push(b'\n');
        }
        let mut out = std::io::stdout().lock();
        if out.write_all(&line).and_then(|()| out.flush()).is_err() {
            break; // stdout closed (e.g. `| head`): a normal end for a stream.
        }
    }
    Ok(ExitCode::SUCCESS)
}
