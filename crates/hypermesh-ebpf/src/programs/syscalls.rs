//! System calls counted per (syscall number, comm) on `raw_syscalls:sys_enter`, with per-syscall
//! totals and the top commands per syscall.

use crate::error::{Error, Result};
use crate::lifecycle::{Hook, Loaded, Object, Spec, Variant};
use crate::programs::metrics::{Counter, MetricInfo};

/// The metric [`Syscalls::metrics`] returns.
pub const SYSCALLS: MetricInfo =
    MetricInfo { name: "hypermesh_ebpf_syscalls_total", help: "System calls entered, per syscall number." };
use aya::maps::PerCpuHashMap;
use serde::Serialize;
use std::collections::BTreeMap;

/// The (nr, comm) → count map.
const COUNTS_MAP: &str = "hm_sc_counts";

const SYS_ENTER: &[Variant] = crate::tracepoint_chain!("hm_sc", "raw_syscalls": "sys_enter", core: false);

/// The map key, laid out as `struct hm_sc_key` in `bpf/syscalls.bpf.c`.
#[repr(C)]
#[derive(Clone, Copy)]
struct Key {
    nr: u32,
    comm: [u8; 16],
}

// SAFETY: plain old data, no padding (4 + 16 bytes, align 4).
unsafe impl aya::Pod for Key {}

/// The program set.
pub fn spec() -> Spec {
    spec_from(0)
}

/// The program set without its first `skip` variants (to force a fallback in tests).
pub fn spec_from(skip: usize) -> Spec {
    Spec {
        name: "syscalls",
        object: Object::Embedded(crate::embedded_object!("syscalls.bpf.o")),
        hooks: vec![Hook::skipping("sys_enter", SYS_ENTER, skip)],
        globals: Vec::new(),
    }
}

/// Calls of one syscall number, in total and per command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyscallCount {
    /// Syscall number on this architecture.
    pub nr: u32,
    /// Calls, all commands.
    pub count: u64,
    /// Calls per command (`comm`), largest first.
    pub by_comm: Vec<(String, u64)>,
}

/// A running syscall counter.
pub struct Syscalls {
    loaded: Loaded,
}

impl Syscalls {
    /// Loads and attaches with the best variant available.
    pub fn start() -> Result<Self> {
        Self::start_spec(&spec())
    }

    /// Loads and attaches a given spec (see [`spec_from`]).
    pub fn start_spec(spec: &Spec) -> Result<Self> {
        Ok(Syscalls { loaded: Loaded::load(spec)? })
    }

    /// The loaded programs.
    pub fn loaded(&self) -> &Loaded {
        &self.loaded
    }

    /// Counts per syscall, largest first; `top` bounds the commands listed per syscall.
    pub fn counts(&self, top: usize) -> Result<Vec<SyscallCount>> {
        let map: PerCpuHashMap<_, Key, u64> = PerCpuHashMap::try_from(self.loaded.map(COUNTS_MAP)?)
            .map_err(|e| Error::aya("reading the syscall counts", e))?;
        let mut by_nr: BTreeMap<u32, BTreeMap<String, u64>> = BTreeMap::new();
        for entry in map.iter() {
            let (key, values) = entry.map_err(|e| Error::aya("iterating the syscall counts", e))?;
            let comm = super::comm_str(&key.comm);
            *by_nr.entry(key.nr).or_default().entry(comm).or_default() += values.iter().sum::<u64>();
        }
        let mut out: Vec<SyscallCount> = by_nr
            .into_iter()
            .map(|(nr, comms)| {
                let mut by_comm: Vec<(String, u64)> = comms.into_iter().collect();
                by_comm.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                let count = by_comm.iter().map(|c| c.1).sum();
                by_comm.truncate(top);
                SyscallCount { nr, count, by_comm }
            })
            .collect();
        out.sort_by(|a, b| b.count.cmp(&a.count).then(a.nr.cmp(&b.nr)));
        Ok(out)
    }

    /// `hypermesh_ebpf_syscalls_total{nr}` counters.
    pub fn metrics(&self) -> Result<Vec<Counter>> {
        Ok(self
            .counts(0)?
            .into_iter()
            .map(|c| Counter { info: SYSCALLS, labels: vec![("nr", c.nr.to_string())], value: c.count })
            .collect())
    }
}
