//! `hypermesh top`: a live terminal view of the host (CPUs, memory, pressure, disks, network,
//! filesystems, GPUs, cgroup limits, assets, eBPF latency), from the same sampler as `usage`.
//!
//! Modules: [`state`] (what is shown), [`render`] (a pure function of the state), [`widgets`]
//! (bars, heat strip, histograms), [`input`] (keys), [`sources`] (sampler and the rest).

pub mod input;
pub mod render;
pub mod sources;
pub mod state;
#[cfg(test)]
mod tests;
pub mod widgets;

use super::Global;
use super::usage::parse_interval;
use anyhow::bail;
use crossterm::event::{self, Event};
use input::Action;
use ratatui::DefaultTerminal;
use sources::Sources;
use state::State;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The first frame comes after at most this long, whatever the interval.
const FIRST_TICK: Duration = Duration::from_millis(250);

/// Arguments of `hypermesh top`.
#[derive(clap::Args)]
pub struct Args {
    /// Time between readings (`500ms`, `1s`, `2m`); `+` and `-` change it while running.
    #[arg(long, default_value = "1s", value_parser = parse_interval)]
    pub interval: Duration,
    /// Directory of the asset ledger whose allocations are shown (as for `hypermesh assets`).
    #[arg(long, env = "HYPERMESH_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Do not load the eBPF latency program (it costs about 14 MiB of resident memory while
    /// `top` runs: the parsed kernel BTF stays loaded).
    #[arg(long)]
    pub no_ebpf: bool,
}

/// Leaves raw mode and the alternate screen when dropped (normal end and errors; panics are
/// covered by the hook `ratatui::try_init` installs).
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Runs until `q` or Ctrl-C.
pub fn run(global: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    if !std::io::stdout().is_terminal() {
        bail!("top needs a terminal; for a stream use `hypermesh watch --json`");
    }
    // https://no-color.org: set and not empty disables colour.
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut state = State::new(args.interval, color);
    let mut sources = Sources::open(global, args.state_dir.clone(), !args.no_ebpf, &mut state)?;
    // Start-up (profile detection, asset inventory, eBPF loading) frees most of what it
    // allocated; hand those pages back so the long-running view stays small.
    hypermesh_os::heap::release_free();
    let mut terminal = ratatui::try_init()?;
    let _restore = Restore;
    event_loop(&mut terminal, &mut state, &mut sources)?;
    Ok(ExitCode::SUCCESS)
}

/// Draws, then waits for a key or the next tick, until a quit key.
fn event_loop(
    terminal: &mut DefaultTerminal,
    state: &mut State,
    sources: &mut Sources,
) -> anyhow::Result<()> {
    let mut next = Instant::now() + state.interval.min(FIRST_TICK);
    loop {
        terminal.draw(|frame| render::draw(frame, state))?;
        // Wait for something that changes the frame: a tick, a key with an action, a resize.
        loop {
            let now = Instant::now();
            if now >= next {
                sources.tick(state);
                // Stay on the grid; after a stall (suspend) start a new one instead of bursting.
                next += state.interval;
                if next < now {
                    next = now + state.interval;
                }
                break;
            }
            if !event::poll(next - now)? {
                continue;
            }
            match event::read()? {
                Event::Key(key) => match input::action(key, state.help) {
                    Some(Action::Quit) => return Ok(()),
                    Some(Action::NextPane) => state.pane = state.pane.next(),
                    Some(Action::ToggleHelp) => state.help = !state.help,
                    Some(a @ (Action::Slower | Action::Faster)) => {
                        state.step_interval(a == Action::Slower);
                        next = Instant::now() + state.interval;
                    }
                    None => continue,
                },
                Event::Resize(..) => {}
                _ => continue,
            }
            break;
        }
    }
}
