//! CPU section from sysinfo's CPU list and physical core count.

use super::{from_sysinfo, not_reported};
use crate::error::{Error, Result};
use crate::model::{Cpu, LogicalCpu};
use crate::profile::Problems;
use sysinfo::{CpuRefreshKind, RefreshKind, System};

/// Vendor, brand, logical and physical counts and the current frequency of each CPU.
///
/// `packages` is 0 and `threads_per_core` is 0 unless it follows from the counts (one thread per
/// core when logical = physical): the model has no `null` for them yet, and a problem says so.
pub(super) fn detect(problems: &mut Problems) -> Result<Cpu> {
    let refresh = RefreshKind::nothing().with_cpu(CpuRefreshKind::nothing().with_frequency());
    let sys = System::new_with_specifics(refresh).map_err(|e| from_sysinfo("cpu", e))?;
    let list = sys.cpus();
    if list.is_empty() {
        return Err(Error::Unavailable("cpu: sysinfo listed no CPUs".into()));
    }
    let logical_cpus = count(list.len());
    let cores = match System::physical_core_count() {
        Ok(n) if n > 0 => Some(count(n)),
        Ok(_) => {
            problems
                .push(Error::Unavailable("cores: sysinfo counted 0 physical cores (0 means unknown)".into()));
            None
        }
        Err(e) => {
            problems.push(from_sysinfo("cores (0 means unknown)", e));
            None
        }
    };
    let threads_per_core = match cores {
        Some(c) if c == logical_cpus => 1,
        _ => {
            problems.push(Error::Unavailable(
                "threads_per_core: sysinfo does not report SMT siblings (0 means unknown)".into(),
            ));
            0
        }
    };
    problems.push(Error::Unavailable("packages: sysinfo does not report sockets (0 means unknown)".into()));
    not_reported(
        "family, model_id, stepping, microcode, flags, caches, kinds, frequency range, \
         online/offline/present/possible CPU numbers (logical[].id is sysinfo's order)",
        problems,
    );
    let logical = list
        .iter()
        .enumerate()
        .map(|(i, c)| LogicalCpu {
            id: count(i),
            online: true,
            current_khz: Some(c.frequency()).filter(|&mhz| mhz > 0).map(|mhz| mhz.saturating_mul(1000)),
            ..Default::default()
        })
        .collect();
    let first = &list[0];
    Ok(Cpu {
        vendor: Some(first.vendor_id().trim().to_string()).filter(|s| !s.is_empty()),
        model: Some(first.brand().trim().to_string()).filter(|s| !s.is_empty()),
        cores: cores.unwrap_or(0),
        logical_cpus,
        threads_per_core,
        logical,
        ..Default::default()
    })
}

/// A count that fits the model's `u32` (no host has 4 billion CPUs; saturate rather than wrap).
fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
