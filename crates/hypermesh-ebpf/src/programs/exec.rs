//! Successful execs counted per new command name on `sched_process_exec`; the hook in use is
//! reported through [`Loaded::chosen`].

use crate::error::{Error, Result};
use crate::lifecycle::{Hook, Loaded, Object, Spec, Variant};
use crate::programs::metrics::{Counter, MetricInfo};

/// The metric [`Exec::metrics`] returns.
pub const EXECS: MetricInfo =
    MetricInfo { name: "hypermesh_ebpf_execs_total", help: "Successful execs, per new command name." };
use aya::maps::PerCpuHashMap;

const COUNTS_MAP: &str = "hm_ex_counts";

const EXEC: &[Variant] = &[
    Variant::TpBtf { prog: "hm_ex_btf", event: "sched_process_exec" },
    Variant::RawTp { prog: "hm_ex_raw", event: "sched_process_exec" },
    Variant::Tracepoint { prog: "hm_ex_tp", category: "sched", event: "sched_process_exec" },
];

/// The exec program set; `skip` drops the first `skip` variants (to force a fallback in tests).
pub fn spec_from(skip: usize) -> Spec {
    Spec {
        name: "exec",
        object: Object::Embedded(crate::embedded_object!("exec.bpf.o")),
        hooks: vec![Hook { name: "sched_process_exec", chain: &EXEC[skip.min(EXEC.len() - 1)..] }],
    }
}

/// A running exec counter.
pub struct Exec {
    loaded: Loaded,
}

impl Exec {
    /// Loads and attaches a given spec (see [`spec_from`]).
    pub fn start_spec(spec: &Spec) -> Result<Self> {
        Ok(Exec { loaded: Loaded::load(spec)? })
    }

    /// The loaded programs (the variant in use is in `chosen()`).
    pub fn loaded(&self) -> &Loaded {
        &self.loaded
    }

    /// Execs per new command name, largest first.
    pub fn counts(&self) -> Result<Vec<(String, u64)>> {
        let map: PerCpuHashMap<_, [u8; 16], u64> = PerCpuHashMap::try_from(self.loaded.map(COUNTS_MAP)?)
            .map_err(|e| Error::aya("reading the exec counts", e))?;
        let mut out = Vec::new();
        for entry in map.iter() {
            let (comm, values) = entry.map_err(|e| Error::aya("iterating the exec counts", e))?;
            out.push((super::comm_str(&comm), values.iter().sum::<u64>()));
        }
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(out)
    }

    /// `hypermesh_ebpf_execs_total{comm}` counters.
    pub fn metrics(&self) -> Result<Vec<Counter>> {
        Ok(self
            .counts()?
            .into_iter()
            .map(|(comm, value)| Counter { info: EXECS, labels: vec![("comm", comm)], value })
            .collect())
    }
}
