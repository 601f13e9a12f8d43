//! Run-queue latency (like libbpf-tools `runqlat`): wakeup/wakeup_new/switch, log2 µs histogram
//! per CPU, summed for the global view.

use crate::error::Result;
use crate::lifecycle::{Hook, Loaded, Object, Spec, Variant};
use crate::maps::{Log2Histogram, counter, per_cpu_slots, sum_cpus};
use crate::programs::metrics::{Histogram, MetricInfo};

/// The metric [`Runqlat::metrics`] returns.
pub const RUNQUEUE_LATENCY: MetricInfo = MetricInfo {
    name: "hypermesh_ebpf_runqueue_latency_seconds",
    help: "Time tasks waited in a CPU run queue, from wakeup to running.",
};

/// The histogram map.
const HIST_MAP: &str = "hm_rq_hist";

/// The map of total latency in nanoseconds (per CPU, one entry).
const SUM_MAP: &str = "hm_rq_sum";

const WAKEUP: &[Variant] = crate::tracepoint_chain!("hm_rq_wake", "sched": "sched_wakeup", core: false);
const WAKEUP_NEW: &[Variant] =
    crate::tracepoint_chain!("hm_rq_wnew", "sched": "sched_wakeup_new", core: false);
const SWITCH: &[Variant] = crate::tracepoint_chain!("hm_rq_sw", "sched": "sched_switch", core: false);

/// The global telling the raw_tp sched_switch program whether it has a 4th argument.
const SWITCH_HAS_STATE: &str = "hm_rq_switch_has_state";

/// Whether the raw sched_switch tracepoint passes `prev_state` (4th argument): Linux 5.18 on.
fn switch_has_state(kernel: (u32, u32)) -> bool {
    kernel >= (5, 18)
}

/// The runqlat program set; `skip` drops the first `skip` variants of each chain (to force a
/// fallback, e.g. in tests).
pub fn spec_from(skip: usize) -> Spec {
    Spec {
        name: "runqlat",
        object: Object::Embedded(crate::embedded_object!("runqlat.bpf.o")),
        hooks: vec![
            Hook::skipping("sched_wakeup", WAKEUP, skip),
            Hook::skipping("sched_wakeup_new", WAKEUP_NEW, skip),
            Hook::skipping("sched_switch", SWITCH, skip),
        ],
        globals: Vec::new(),
    }
}

/// A running runqlat.
pub struct Runqlat {
    loaded: Loaded,
}

impl Runqlat {
    /// Loads and attaches with the best variant this kernel offers.
    pub fn start() -> Result<Self> {
        Self::start_spec(&spec_from(0))
    }

    /// Loads and attaches a given spec (see [`spec_from`]); every hook must get the same kind
    /// (each kind keys tasks its own way).
    pub fn start_spec(spec: &Spec) -> Result<Self> {
        let mut spec = spec.clone();
        spec.globals.push((SWITCH_HAS_STATE, switch_has_state(crate::sys::kernel_version()).into()));
        let loaded = Loaded::load_same_kind(&spec, |kinds| {
            format!(
                "runqlat: the hooks attached with different kinds ({kinds:?}), which track tasks differently"
            )
        })?;
        Ok(Runqlat { loaded })
    }

    /// The loaded programs (variants used, ids).
    pub fn loaded(&self) -> &Loaded {
        &self.loaded
    }

    /// Gives up ownership of the programs, e.g. to pin them.
    pub fn into_loaded(self) -> Loaded {
        self.loaded
    }

    /// One histogram per CPU (index = CPU number).
    pub fn per_cpu(&self) -> Result<Vec<Log2Histogram>> {
        let slots = per_cpu_slots(self.loaded.map(HIST_MAP)?)?;
        Ok(slots.into_iter().map(|slots| Log2Histogram { slots }).collect())
    }

    /// The histogram over all CPUs.
    pub fn histogram(&self) -> Result<Log2Histogram> {
        let per_cpu: Vec<Vec<u64>> = self.per_cpu()?.into_iter().map(|h| h.slots).collect();
        Ok(Log2Histogram { slots: sum_cpus(&per_cpu) })
    }

    /// The run-queue latency histogram of all CPUs, with the exact sum the program keeps (sum and
    /// buckets are read one after the other: events in between may reach only the buckets).
    pub fn metrics(&self) -> Result<Histogram> {
        let sum_ns = counter(self.loaded.map(SUM_MAP)?, 0)?;
        Ok(Histogram::from_log2_usecs(&RUNQUEUE_LATENCY, vec![], &self.histogram()?, Some(sum_ns)))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sched_switch_has_prev_state_from_5_18() {
        assert!(!super::switch_has_state((5, 17)));
        assert!(super::switch_has_state((5, 18)));
        assert!(super::switch_has_state((6, 1)));
        assert!(super::switch_has_state((6, 18)));
    }
}
