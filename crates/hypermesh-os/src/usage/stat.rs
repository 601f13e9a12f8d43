//! `/proc/stat`: CPU time per mode (in USER_HZ ticks), context switches, interrupts, tasks.

use crate::error::{Error, Result};

/// Time one CPU (or all together) spent in each mode since boot, in USER_HZ ticks.
///
/// `guest` and `guest_nice` are already included in `user` and `nice` by the kernel; they are
/// kept for reporting and left out of [`CpuTimes::total`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    /// Normal processes in user mode.
    pub user: u64,
    /// Niced processes in user mode.
    pub nice: u64,
    /// Kernel mode.
    pub system: u64,
    /// Idle.
    pub idle: u64,
    /// Idle while I/O was outstanding.
    pub iowait: u64,
    /// Servicing hard interrupts.
    pub irq: u64,
    /// Servicing soft interrupts.
    pub softirq: u64,
    /// Stolen by the hypervisor.
    pub steal: u64,
    /// Running a guest (part of `user`).
    pub guest: u64,
    /// Running a niced guest (part of `nice`).
    pub guest_nice: u64,
}

impl CpuTimes {
    /// All ticks, guests not counted twice.
    pub fn total(&self) -> u64 {
        self.user
            .saturating_add(self.nice)
            .saturating_add(self.system)
            .saturating_add(self.idle)
            .saturating_add(self.iowait)
            .saturating_add(self.irq)
            .saturating_add(self.softirq)
            .saturating_add(self.steal)
    }

    /// Ticks not spent idle (idle and iowait are both idle time).
    pub fn busy(&self) -> u64 {
        self.total().saturating_sub(self.idle.saturating_add(self.iowait))
    }
}

/// Counters of `/proc/stat`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatCounters {
    /// The aggregate `cpu` line (all possible CPUs).
    pub total: CpuTimes,
    /// One entry per online CPU, by CPU number.
    pub cpus: Vec<(u32, CpuTimes)>,
    /// Context switches since boot.
    pub context_switches: Option<u64>,
    /// Interrupts serviced since boot.
    pub interrupts: Option<u64>,
    /// Tasks runnable now.
    pub procs_running: Option<u64>,
    /// Tasks blocked on I/O now.
    pub procs_blocked: Option<u64>,
}

/// Parses `/proc/stat` text (`path` is for error messages).
pub fn parse(text: &str, path: &str) -> Result<StatCounters> {
    let mut out = StatCounters::default();
    let mut saw_total = false;
    for line in text.lines() {
        let mut words = line.split_ascii_whitespace();
        let Some(key) = words.next() else { continue };
        if let Some(id) = key.strip_prefix("cpu") {
            let times = parse_times(words).ok_or_else(|| Error::parse(path, format!("bad line {key:?}")))?;
            if id.is_empty() {
                out.total = times;
                saw_total = true;
            } else {
                let id = id.parse().map_err(|_| Error::parse(path, format!("bad CPU name {key:?}")))?;
                out.cpus.push((id, times));
            }
            continue;
        }
        let first = words.next().and_then(|w| w.parse().ok());
        match key {
            "ctxt" => out.context_switches = first,
            "intr" => out.interrupts = first,
            "procs_running" => out.procs_running = first,
            "procs_blocked" => out.procs_blocked = first,
            _ => {}
        }
    }
    if !saw_total {
        return Err(Error::parse(path, "no aggregate cpu line"));
    }
    Ok(out)
}

/// Parses the numbers after `cpuN`; kernels before 2.6.33 have fewer columns (missing = 0).
fn parse_times<'a>(words: impl Iterator<Item = &'a str>) -> Option<CpuTimes> {
    let mut v = [0u64; 10];
    let mut n = 0;
    for (slot, w) in v.iter_mut().zip(words) {
        *slot = w.parse().ok()?;
        n += 1;
    }
    if n < 4 {
        return None;
    }
    let [user, nice, system, idle, iowait, irq, softirq, steal, guest, guest_nice] = v;
    Some(CpuTimes { user, nice, system, idle, iowait, irq, softirq, steal, guest, guest_nice })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_rejects_garbage() {
        let s = parse(
            "cpu  10 0 5 100 1 0 0 0 0 0\ncpu0 4 0 2 50 1 0 0 0 0 0\ncpu3 6 0 3 50\nintr 77 1 2\nctxt 99\n\
             procs_running 3\nprocs_blocked 1\n",
            "/proc/stat",
        )
        .unwrap();
        assert_eq!(s.total.total(), 116);
        assert_eq!(s.total.busy(), 15);
        assert_eq!(s.cpus.iter().map(|c| c.0).collect::<Vec<_>>(), vec![0, 3]);
        assert_eq!(s.cpus[1].1.idle, 50);
        assert_eq!((s.interrupts, s.context_switches), (Some(77), Some(99)));
        assert_eq!((s.procs_running, s.procs_blocked), (Some(3), Some(1)));
        assert!(parse("cpu 1 2\n", "/proc/stat").is_err());
        assert!(parse("cpux 1 2 3 4\ncpu 1 2 3 4\n", "/proc/stat").is_err());
        assert!(parse("ctxt 5\n", "/proc/stat").is_err());
    }
}
