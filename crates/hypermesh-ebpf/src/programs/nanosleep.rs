//! Counts `clock_nanosleep` calls. Small on purpose: it exercises the fentry → kprobe →
//! syscall-tracepoint fallback chain and the counter reader.

use crate::error::Result;
use crate::lifecycle::{Hook, Loaded, Object, Spec, Variant};
use crate::maps::counter;

const CHAIN: &[Variant] = &[
    Variant::Fentry { prog: "hm_ns_fentry", func: "__x64_sys_clock_nanosleep" },
    Variant::Kprobe { prog: "hm_ns_kprobe", func: "__x64_sys_clock_nanosleep" },
    Variant::Tracepoint { prog: "hm_ns_tp", category: "syscalls", event: "sys_enter_clock_nanosleep" },
];

/// The program set.
pub fn spec() -> Spec {
    Spec {
        name: "nanosleep",
        object: Object::Embedded(crate::embedded_object!("nanosleep.bpf.o")),
        hooks: vec![Hook { name: "clock_nanosleep", chain: CHAIN }],
        globals: Vec::new(),
    }
}

/// Loads it, and returns the calls counted so far through `count`.
pub struct Nanosleep {
    loaded: Loaded,
}

impl Nanosleep {
    /// Loads and attaches with the best variant available.
    pub fn start() -> Result<Self> {
        Ok(Nanosleep { loaded: Loaded::load(&spec())? })
    }

    /// The loaded programs.
    pub fn loaded(&self) -> &Loaded {
        &self.loaded
    }

    /// Calls counted, all CPUs.
    pub fn count(&self) -> Result<u64> {
        counter(self.loaded.map("hm_ns_count")?, 0)
    }
}
