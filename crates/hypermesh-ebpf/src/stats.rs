//! Self-cost of our programs: run count and run time per program from the kernel's BPF
//! statistics, collected only while measuring. [`Measurement::start`] enables them with
//! `BPF_ENABLE_STATS` (a file descriptor: statistics stay on while it is open, and the kernel
//! turns them off when the last such descriptor closes) and [`Measurement::finish`] closes it.

use crate::error::{Error, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::os::fd::OwnedFd;

/// The cost of one program over a measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgramCost {
    /// Kernel program id.
    pub prog_id: u32,
    /// Program name.
    pub name: String,
    /// Times the program ran during the measurement.
    pub run_cnt: u64,
    /// Nanoseconds spent in it during the measurement.
    pub run_time_ns: u64,
    /// `run_time_ns / run_cnt`, `None` when it did not run.
    pub ns_per_event: Option<f64>,
}

/// (name, run count, run time ns) of each listed program id now loaded.
fn snapshot(ids: &[u32]) -> Result<BTreeMap<u32, (String, u64, u64)>> {
    let mut out = BTreeMap::new();
    for info in crate::lifecycle::loaded_programs("reading program statistics") {
        let info = info?;
        if ids.contains(&info.id()) {
            let name = info.name_as_str().unwrap_or("").to_string();
            out.insert(info.id(), (name, info.run_count(), info.run_time().as_nanos() as u64));
        }
    }
    Ok(out)
}

/// Statistics collection in progress for a set of programs.
pub struct Measurement {
    enabled: OwnedFd,
    ids: Vec<u32>,
    before: BTreeMap<u32, (String, u64, u64)>,
}

impl Measurement {
    /// Enables run-time statistics and takes the starting counts of `ids` (counts accumulated
    /// earlier, e.g. while `kernel.bpf_stats_enabled` was set, are subtracted).
    pub fn start(ids: &[u32]) -> Result<Self> {
        let enabled = aya::sys::enable_stats(aya::sys::Stats::RunTime)
            .map_err(|e| Error::Unavailable(format!("BPF_ENABLE_STATS failed (Linux >= 5.8 needed): {e}")))?;
        let before = snapshot(ids)?;
        Ok(Measurement { enabled, ids: ids.to_vec(), before })
    }

    /// The cost of each program since [`start`](Self::start), in id order; turns statistics off
    /// again (unless something else holds them on).
    pub fn finish(self) -> Result<Vec<ProgramCost>> {
        let after = snapshot(&self.ids)?;
        drop(self.enabled);
        Ok(after
            .into_iter()
            .map(|(prog_id, (name, cnt, ns))| {
                let (_, cnt0, ns0) = self.before.get(&prog_id).cloned().unwrap_or_default();
                let (run_cnt, run_time_ns) = (cnt.saturating_sub(cnt0), ns.saturating_sub(ns0));
                let ns_per_event = (run_cnt > 0).then(|| run_time_ns as f64 / run_cnt as f64);
                ProgramCost { prog_id, name, run_cnt, run_time_ns, ns_per_event }
            })
            .collect())
    }
}

/// One line: `name runs ns/event` per program.
pub fn summary(costs: &[ProgramCost]) -> String {
    let parts: Vec<String> = costs
        .iter()
        .map(|c| match c.ns_per_event {
            Some(ns) => format!("{} {} runs {:.0} ns/event", c.name, c.run_cnt, ns),
            None => format!("{} 0 runs", c.name),
        })
        .collect();
    format!("self-cost: {}", if parts.is_empty() { "no program".into() } else { parts.join(", ") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_line() {
        let c = |name: &str, run_cnt, run_time_ns| ProgramCost {
            prog_id: 1,
            name: name.into(),
            run_cnt,
            run_time_ns,
            ns_per_event: (run_cnt > 0).then(|| run_time_ns as f64 / run_cnt as f64),
        };
        assert_eq!(
            summary(&[c("hm_a", 4, 1000), c("hm_b", 0, 0)]),
            "self-cost: hm_a 4 runs 250 ns/event, hm_b 0 runs"
        );
        assert_eq!(summary(&[]), "self-cost: no program");
    }
}
