//! Rates between two samples, with the gauges of the later one: the usage report.
//!
//! A counter that went down between the samples (reset, 32-bit wrap, device replaced) gives no
//! rate for that item (`None`, `null` in JSON), never a negative or huge one. CPUs, disks and
//! interfaces are matched by CPU number or name, so CPUs going offline and devices appearing
//! are handled: an item only in the later sample has no rates yet, one only in the earlier
//! sample is gone.

use super::cgroup::CgroupVersion;
use super::counter::{delta, rate};
use super::diskstats::{DiskCounters, DiskKind, SECTOR_BYTES};
use super::loadavg::LoadAvg;
use super::memory::MemoryNow;
use super::netdev::NetCounters;
use super::pressure::{self, Psi, PsiLine};
use super::stat::CpuTimes;
use super::{PSI_RESOURCES, Sample};
use crate::cpulist;
use crate::error::Result;
use serde::Serialize;
use std::collections::BTreeMap;

/// Usage over the interval between two samples.
#[derive(Debug, Clone, Serialize)]
pub struct Rates {
    /// Seconds between the samples.
    pub interval_seconds: f64,
    /// CPU utilisation (`None` when /proc/stat could not be read).
    pub cpu: Option<CpuRates>,
    /// Load averages now.
    pub load: Option<LoadAvg>,
    /// System-wide pressure per resource (`cpu`, `memory`, `io`, `irq`).
    pub pressure: BTreeMap<&'static str, PsiReport>,
    /// Memory now and paging rates.
    pub memory: Option<MemoryRates>,
    /// Per block device, all devices (partitions and virtual ones marked by `kind`).
    pub disks: Vec<DiskRates>,
    /// Sum over whole physical disks (partitions and virtual devices excluded).
    pub disk_totals: DiskTotals,
    /// Per network interface.
    pub network: Vec<NetRates>,
    /// The calling process's cgroup limits.
    pub cgroup: CgroupReport,
    /// Sources that could not be read, with the reason.
    pub errors: Vec<SourceError>,
}

/// A source that failed in this sample.
#[derive(Debug, Clone, Serialize)]
pub struct SourceError {
    /// Which part of the report it concerns (`cpu`, `memory`, `disks`, ...).
    pub source: &'static str,
    /// What went wrong.
    pub message: String,
}

/// Share of time per CPU mode, in percent of the CPU's time over the interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CpuModes {
    /// User mode (includes guest).
    pub user: f64,
    /// Niced user mode (includes guest_nice).
    pub nice: f64,
    /// Kernel mode.
    pub system: f64,
    /// Idle.
    pub idle: f64,
    /// Idle with I/O outstanding.
    pub iowait: f64,
    /// Hard interrupts.
    pub irq: f64,
    /// Soft interrupts.
    pub softirq: f64,
    /// Stolen by the hypervisor.
    pub steal: f64,
    /// Running guests (already inside `user` and `nice`).
    pub guest: f64,
}

/// Utilisation of one CPU.
#[derive(Debug, Clone, Serialize)]
pub struct PerCpu {
    /// CPU number.
    pub cpu: u32,
    /// Percent not idle (`None`: new this interval, or its counters went back).
    pub total_percent: Option<f64>,
    /// Split by mode.
    pub modes: Option<CpuModes>,
}

/// CPU utilisation over the interval.
#[derive(Debug, Clone, Serialize)]
pub struct CpuRates {
    /// Percent of all CPUs' time not idle (100 = every CPU busy).
    pub total_percent: Option<f64>,
    /// Split by mode, all CPUs together.
    pub modes: Option<CpuModes>,
    /// Per online CPU, by number.
    pub per_cpu: Vec<PerCpu>,
    /// Online CPUs in the later sample.
    pub online_cpus: usize,
    /// Context switches per second.
    pub context_switches_per_sec: Option<f64>,
    /// Interrupts per second.
    pub interrupts_per_sec: Option<f64>,
    /// Runnable tasks now.
    pub procs_running: Option<u64>,
    /// Tasks blocked on I/O now.
    pub procs_blocked: Option<u64>,
}

/// One PSI line over the interval.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PsiRates {
    /// Kernel's 10 s average, percent.
    pub avg10: f64,
    /// Kernel's 60 s average, percent.
    pub avg60: f64,
    /// Kernel's 300 s average, percent.
    pub avg300: f64,
    /// Stall time over this interval, percent of wall time (from the `total` counter).
    pub stall_percent: Option<f64>,
    /// Stall time since boot, microseconds.
    pub total_us: u64,
}

/// Pressure of one resource, or why it is unavailable.
#[derive(Debug, Clone, Serialize)]
pub struct PsiReport {
    /// `some` line (at least one task stalled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub some: Option<PsiRates>,
    /// `full` line (all non-idle tasks stalled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full: Option<PsiRates>,
    /// Why there is no reading.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// Memory now and paging over the interval.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryRates {
    /// Gauges (absent when /proc/meminfo could not be read).
    #[serde(flatten)]
    pub now: Option<MemoryNow>,
    /// Page faults per second (minor and major).
    pub page_faults_per_sec: Option<f64>,
    /// Major page faults per second.
    pub major_faults_per_sec: Option<f64>,
    /// Pages swapped in per second.
    pub swap_in_pages_per_sec: Option<f64>,
    /// Pages swapped out per second.
    pub swap_out_pages_per_sec: Option<f64>,
    /// Bytes paged in from block devices per second.
    pub page_in_bytes_per_sec: Option<f64>,
    /// Bytes paged out to block devices per second.
    pub page_out_bytes_per_sec: Option<f64>,
}

/// One block device over the interval.
#[derive(Debug, Clone, Serialize)]
pub struct DiskRates {
    /// Kernel name.
    pub name: String,
    /// Disk, partition or virtual.
    pub kind: DiskKind,
    /// Reads completed per second.
    pub reads_per_sec: Option<f64>,
    /// Writes completed per second.
    pub writes_per_sec: Option<f64>,
    /// Bytes read per second.
    pub read_bytes_per_sec: Option<f64>,
    /// Bytes written per second.
    pub write_bytes_per_sec: Option<f64>,
    /// Mean time per read, ms (`None` without reads).
    pub read_latency_ms: Option<f64>,
    /// Mean time per write, ms (`None` without writes).
    pub write_latency_ms: Option<f64>,
    /// Mean time per I/O, ms.
    pub avg_latency_ms: Option<f64>,
    /// Percent of the interval with I/O in flight (from io_ticks).
    pub utilization_percent: Option<f64>,
    /// Mean number of I/Os queued or in flight (from the weighted time).
    pub queue_depth: Option<f64>,
    /// I/Os in flight now.
    pub in_flight: u64,
}

/// Sum over whole disks.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct DiskTotals {
    /// Reads per second.
    pub reads_per_sec: f64,
    /// Writes per second.
    pub writes_per_sec: f64,
    /// Bytes read per second.
    pub read_bytes_per_sec: f64,
    /// Bytes written per second.
    pub write_bytes_per_sec: f64,
}

/// One network interface over the interval.
#[derive(Debug, Clone, Serialize)]
pub struct NetRates {
    /// Interface name.
    pub name: String,
    /// Bytes received per second.
    pub rx_bytes_per_sec: Option<f64>,
    /// Bytes sent per second.
    pub tx_bytes_per_sec: Option<f64>,
    /// Packets received per second.
    pub rx_packets_per_sec: Option<f64>,
    /// Packets sent per second.
    pub tx_packets_per_sec: Option<f64>,
    /// Receive errors per second.
    pub rx_errors_per_sec: Option<f64>,
    /// Transmit errors per second.
    pub tx_errors_per_sec: Option<f64>,
    /// Received packets dropped per second.
    pub rx_drops_per_sec: Option<f64>,
    /// Transmitted packets dropped per second.
    pub tx_drops_per_sec: Option<f64>,
}

/// The calling process's cgroup limits (`None`/`null` limit = no limit).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CgroupReport {
    /// `v1`, `v2` or `hybrid`; `None` when no cgroup could be found.
    pub version: Option<CgroupVersion>,
    /// The process's cgroup path (v1 memory hierarchy when that one is used, else unified).
    pub path: Option<String>,
    /// CPU quota as a number of CPUs (quota / period).
    pub cpu_limit_cpus: Option<f64>,
    /// CPU quota, microseconds per period.
    pub cpu_quota_us: Option<u64>,
    /// CPU period, microseconds.
    pub cpu_period_us: Option<u64>,
    /// CPUs allowed by the cpuset, kernel list format.
    pub cpuset: Option<String>,
    /// Memory limit in bytes.
    pub memory_limit_bytes: Option<u64>,
    /// Memory charged to the cgroup now.
    pub memory_current_bytes: Option<u64>,
    /// Memory pressure of the cgroup.
    pub memory_pressure: Option<PsiReport>,
    /// I/O pressure of the cgroup.
    pub io_pressure: Option<PsiReport>,
    /// CPUs this process can use: min(online CPUs, cpuset, quota).
    pub effective_cpus: Option<f64>,
    /// Memory this process can use: min(MemTotal, limit).
    pub effective_memory_bytes: Option<u64>,
    /// Why nothing could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

impl Rates {
    /// Rates from `prev` to `cur` (`cur` taken later), with `cur`'s gauges.
    pub fn between(prev: &Sample, cur: &Sample) -> Rates {
        let secs = cur.time.checked_sub(prev.time).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        let mut errors = Vec::new();
        let cpu = both(&prev.stat, &cur.stat, "cpu", &mut errors).map(|(a, b)| {
            let per_cpu = b
                .cpus
                .iter()
                .map(|(id, now)| {
                    let modes =
                        a.cpus.iter().find(|(i, _)| i == id).and_then(|(_, before)| cpu_modes(before, now));
                    PerCpu { cpu: *id, total_percent: modes.map(|m| busy_percent(&m)), modes }
                })
                .collect();
            let modes = cpu_modes(&a.total, &b.total);
            CpuRates {
                total_percent: modes.map(|m| busy_percent(&m)),
                modes,
                per_cpu,
                online_cpus: b.cpus.len(),
                context_switches_per_sec: opt_rate(a.context_switches, b.context_switches, secs),
                interrupts_per_sec: opt_rate(a.interrupts, b.interrupts, secs),
                procs_running: b.procs_running,
                procs_blocked: b.procs_blocked,
            }
        });
        let load = note(&cur.load, "load", &mut errors).copied();
        let pressure = PSI_RESOURCES
            .iter()
            .zip(prev.pressure.iter().zip(&cur.pressure))
            .map(|(name, (a, b))| (*name, psi_report(name, a, b, secs)))
            .collect();
        let memory = memory_rates(prev, cur, secs, &mut errors);
        let disks: Vec<DiskRates> = match both(&prev.disks, &cur.disks, "disks", &mut errors) {
            Some((a, b)) => {
                b.iter().map(|d| disk_rates(a.iter().find(|p| p.name == d.name), d, secs)).collect()
            }
            None => Vec::new(),
        };
        let disk_totals = totals(&disks);
        let network = match both(&prev.network, &cur.network, "network", &mut errors) {
            Some((a, b)) => {
                b.iter().map(|n| net_rates(a.iter().find(|p| p.name == n.name), n, secs)).collect()
            }
            None => Vec::new(),
        };
        let cgroup = cgroup_report(prev, cur, secs, &cpu, &mut errors);
        Rates {
            interval_seconds: secs,
            cpu,
            load,
            pressure,
            memory,
            disks,
            disk_totals,
            network,
            cgroup,
            errors,
        }
    }
}

/// The value of a source, noting its error.
fn note<'a, T>(r: &'a Result<T>, source: &'static str, errors: &mut Vec<SourceError>) -> Option<&'a T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(SourceError { source, message: e.to_string() });
            None
        }
    }
}

/// Both samples of a source; the later sample's error is noted (the earlier one's is old news,
/// unless the later one succeeded: then there is just no rate this interval).
fn both<'a, T>(
    prev: &'a Result<T>,
    cur: &'a Result<T>,
    source: &'static str,
    errors: &mut Vec<SourceError>,
) -> Option<(&'a T, &'a T)> {
    let b = note(cur, source, errors)?;
    Some((prev.as_ref().ok()?, b))
}

fn opt_rate(a: Option<u64>, b: Option<u64>, secs: f64) -> Option<f64> {
    rate(a?, b?, secs)
}

/// Percent per mode between two readings of one CPU. `None` when its total went back (the
/// counters were reset) or did not move. A single mode going slightly back while the total
/// advances (idle/iowait do on NO_HZ kernels) counts as zero for that mode.
fn cpu_modes(a: &CpuTimes, b: &CpuTimes) -> Option<CpuModes> {
    delta(a.total(), b.total())?;
    let d = |x: u64, y: u64| y.saturating_sub(x) as f64;
    let parts = [
        d(a.user, b.user),
        d(a.nice, b.nice),
        d(a.system, b.system),
        d(a.idle, b.idle),
        d(a.iowait, b.iowait),
        d(a.irq, b.irq),
        d(a.softirq, b.softirq),
        d(a.steal, b.steal),
    ];
    let total: f64 = parts.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let p = |x: f64| x * 100.0 / total;
    Some(CpuModes {
        user: p(parts[0]),
        nice: p(parts[1]),
        system: p(parts[2]),
        idle: p(parts[3]),
        iowait: p(parts[4]),
        irq: p(parts[5]),
        softirq: p(parts[6]),
        steal: p(parts[7]),
        guest: p(d(a.guest, b.guest) + d(a.guest_nice, b.guest_nice)).min(100.0),
    })
}

fn busy_percent(m: &CpuModes) -> f64 {
    (100.0 - m.idle - m.iowait).clamp(0.0, 100.0)
}

fn psi_line(a: Option<PsiLine>, b: Option<PsiLine>, secs: f64) -> Option<PsiRates> {
    let b = b?;
    let stall_percent =
        a.and_then(|a| rate(a.total_us, b.total_us, secs)).map(|us_per_sec| (us_per_sec / 1e4).min(100.0));
    Some(PsiRates { avg10: b.avg10, avg60: b.avg60, avg300: b.avg300, stall_percent, total_us: b.total_us })
}

fn psi_report(resource: &str, prev: &Result<Psi>, cur: &Result<Psi>, secs: f64) -> PsiReport {
    match cur {
        Ok(b) => {
            let a = prev.as_ref().ok();
            PsiReport {
                some: psi_line(a.and_then(|a| a.some), b.some, secs),
                full: psi_line(a.and_then(|a| a.full), b.full, secs),
                unavailable: None,
            }
        }
        Err(e) => {
            PsiReport { some: None, full: None, unavailable: Some(pressure::unavailable_reason(resource, e)) }
        }
    }
}

fn opt_psi_report(prev: Option<&Psi>, cur: Option<&Psi>, secs: f64) -> Option<PsiReport> {
    let b = cur?;
    Some(PsiReport {
        some: psi_line(prev.and_then(|a| a.some), b.some, secs),
        full: psi_line(prev.and_then(|a| a.full), b.full, secs),
        unavailable: None,
    })
}

fn memory_rates(
    prev: &Sample,
    cur: &Sample,
    secs: f64,
    errors: &mut Vec<SourceError>,
) -> Option<MemoryRates> {
    let now = note(&cur.memory, "memory", errors).copied();
    let vm = both(&prev.vmstat, &cur.vmstat, "vmstat", errors);
    if now.is_none() && vm.is_none() {
        return None;
    }
    let r =
        |f: fn(&super::vmstat::VmCounters) -> Option<u64>| vm.and_then(|(a, b)| opt_rate(f(a), f(b), secs));
    Some(MemoryRates {
        now,
        page_faults_per_sec: r(|v| v.pgfault),
        major_faults_per_sec: r(|v| v.pgmajfault),
        swap_in_pages_per_sec: r(|v| v.pswpin),
        swap_out_pages_per_sec: r(|v| v.pswpout),
        page_in_bytes_per_sec: r(|v| v.pgpgin).map(|k| k * 1024.0),
        page_out_bytes_per_sec: r(|v| v.pgpgout).map(|k| k * 1024.0),
    })
}

fn disk_rates(prev: Option<&DiskCounters>, d: &DiskCounters, secs: f64) -> DiskRates {
    let r = |f: fn(&DiskCounters) -> u64| prev.and_then(|p| rate(f(p), f(d), secs));
    let per_io = |ms: fn(&DiskCounters) -> u64, ios: fn(&DiskCounters) -> u64| {
        let p = prev?;
        let (ms, ios) = (delta(ms(p), ms(d))?, delta(ios(p), ios(d))?);
        (ios > 0).then(|| ms as f64 / ios as f64)
    };
    let bytes = |f: fn(&DiskCounters) -> u64| r(f).map(|s| s * SECTOR_BYTES as f64);
    DiskRates {
        name: d.name.clone(),
        kind: d.kind,
        reads_per_sec: r(|c| c.reads),
        writes_per_sec: r(|c| c.writes),
        read_bytes_per_sec: bytes(|c| c.read_sectors),
        write_bytes_per_sec: bytes(|c| c.write_sectors),
        read_latency_ms: per_io(|c| c.read_ms, |c| c.reads),
        write_latency_ms: per_io(|c| c.write_ms, |c| c.writes),
        avg_latency_ms: per_io(
            |c| c.read_ms.saturating_add(c.write_ms),
            |c| c.reads.saturating_add(c.writes),
        ),
        utilization_percent: r(|c| c.io_ticks_ms).map(|ms| (ms / 10.0).min(100.0)),
        queue_depth: r(|c| c.weighted_ms).map(|ms| ms / 1000.0),
        in_flight: d.in_flight,
    }
}

fn totals(disks: &[DiskRates]) -> DiskTotals {
    let mut t = DiskTotals::default();
    for d in disks.iter().filter(|d| d.kind == DiskKind::Disk) {
        t.reads_per_sec += d.reads_per_sec.unwrap_or(0.0);
        t.writes_per_sec += d.writes_per_sec.unwrap_or(0.0);
        t.read_bytes_per_sec += d.read_bytes_per_sec.unwrap_or(0.0);
        t.write_bytes_per_sec += d.write_bytes_per_sec.unwrap_or(0.0);
    }
    t
}

fn net_rates(prev: Option<&NetCounters>, n: &NetCounters, secs: f64) -> NetRates {
    let r = |f: fn(&NetCounters) -> u64| prev.and_then(|p| rate(f(p), f(n), secs));
    NetRates {
        name: n.name.clone(),
        rx_bytes_per_sec: r(|c| c.rx_bytes),
        tx_bytes_per_sec: r(|c| c.tx_bytes),
        rx_packets_per_sec: r(|c| c.rx_packets),
        tx_packets_per_sec: r(|c| c.tx_packets),
        rx_errors_per_sec: r(|c| c.rx_errors),
        tx_errors_per_sec: r(|c| c.tx_errors),
        rx_drops_per_sec: r(|c| c.rx_drops),
        tx_drops_per_sec: r(|c| c.tx_drops),
    }
}

fn cgroup_report(
    prev: &Sample,
    cur: &Sample,
    secs: f64,
    cpu: &Option<CpuRates>,
    errors: &mut Vec<SourceError>,
) -> CgroupReport {
    let c = match &cur.cgroup {
        Ok(c) => c,
        Err(e) => return CgroupReport { unavailable: Some(e.to_string()), ..Default::default() },
    };
    let before = prev.cgroup.as_ref().ok().map(|p| &p.now);
    for p in &c.now.problems {
        errors.push(SourceError { source: "cgroup", message: p.clone() });
    }
    let cpu_limit = c.now.cpu_quota.map(|(q, p)| q as f64 / p as f64);
    let host_cpus = cpu.as_ref().map(|c| c.online_cpus as f64).filter(|n| *n > 0.0);
    let cpuset_cpus = c.now.cpuset.as_ref().map(|s| s.len() as f64);
    let effective_cpus = [host_cpus, cpuset_cpus, cpu_limit].into_iter().flatten().reduce(f64::min);
    let host_mem = cur.memory.as_ref().ok().map(|m| m.total_bytes);
    let effective_memory_bytes = [host_mem, c.now.memory_limit_bytes].into_iter().flatten().min();
    CgroupReport {
        version: Some(c.version),
        path: Some(c.path.clone()),
        cpu_limit_cpus: cpu_limit,
        cpu_quota_us: c.now.cpu_quota.map(|q| q.0),
        cpu_period_us: c.now.cpu_quota.map(|q| q.1),
        cpuset: c.now.cpuset.as_deref().map(cpulist::format_list),
        memory_limit_bytes: c.now.memory_limit_bytes,
        memory_current_bytes: c.now.memory_current_bytes,
        memory_pressure: opt_psi_report(
            before.and_then(|b| b.memory_pressure.as_ref()),
            c.now.memory_pressure.as_ref(),
            secs,
        ),
        io_pressure: opt_psi_report(
            before.and_then(|b| b.io_pressure.as_ref()),
            c.now.io_pressure.as_ref(),
            secs,
        ),
        effective_cpus,
        effective_memory_bytes,
        unavailable: None,
    }
}
