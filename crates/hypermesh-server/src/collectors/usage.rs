//! `usage`: how busy the host is, sampled once per scrape from the kernel's raw counters.
//!
//! Cumulative kernel counters are exported as `_total` counters in base units (seconds, bytes,
//! operations), never as rates: Prometheus computes rates itself with `rate()`. Instant values
//! (memory, load, in-flight I/O, cgroup limits) are gauges. A source that cannot be read (no
//! PSI on this kernel, no cgroup found) leaves its families out and shows as
//! `hypermesh_usage_source_up{source} 0`; the collector fails only when CPU, memory, disks and
//! network all fail. Totals that do not change (MemTotal, swap size) are the inventory's.
//! Filesystem space (statvfs of each local mount; network and FUSE mounts are never asked, as
//! their statvfs can hang) is read on each scrape too, on the live host only.

use crate::collector::{CollectError, Collector};
use crate::rows::{CounterRows, GaugeRows, Labels, snake_name};
use crate::sources::Sources;
use hypermesh_os::FsRoot;
use hypermesh_os::usage::diskstats::DiskCounters;
use hypermesh_os::usage::filesystems::{self, FsUsage};
use hypermesh_os::usage::netdev::NetCounters;
use hypermesh_os::usage::stat::CpuTimes;
use hypermesh_os::usage::{PSI_RESOURCES, Sample};
use prometheus_client::encoding::{EncodeCounterValue, EncodeGaugeValue};
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// Name of this collector.
pub const NAME: &str = "usage";

/// Bytes per sector in /proc/diskstats, whatever the device's sector size (the kernel's unit).
const DISKSTATS_SECTOR_BYTES: u64 = 512;

/// Samples the host on each scrape through the shared sampler.
pub struct Usage {
    sources: Arc<Sources>,
    /// Seconds per USER_HZ tick of /proc/stat.
    seconds_per_tick: f64,
}

impl Usage {
    /// A collector reading through `sources.usage`.
    pub fn new(sources: Arc<Sources>) -> Self {
        // SAFETY: sysconf has no preconditions. USER_HZ is 100 wherever it cannot be read.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let seconds_per_tick = if ticks > 0 { 1.0 / ticks as f64 } else { 0.01 };
        Usage { sources, seconds_per_tick }
    }
}

impl Collector for Usage {
    fn name(&self) -> &'static str {
        NAME
    }

    fn collect(&self, registry: &mut Registry) -> Result<(), CollectError> {
        self.sources.usage.read(|root, _, now| self.register(registry, root, now))
    }
}

impl Usage {
    fn register(&self, r: &mut Registry, root: &FsRoot, s: &Sample) -> Result<(), CollectError> {
        let mut up = Vec::new();
        let mut failed = Vec::new();
        let mut source = |name: &'static str, ok: bool, why: Option<String>| {
            up.push((vec![("source", name.to_string())], u32::from(ok)));
            if let Some(why) = why {
                failed.push(format!("{name}: {why}"));
            }
        };
        match &s.stat {
            Ok(stat) => {
                let rows = std::iter::once(("all".to_string(), &stat.total))
                    .chain(stat.cpus.iter().map(|(id, t)| (id.to_string(), t)))
                    .flat_map(|(cpu, t)| self.cpu_modes(cpu, t));
                counters(r, "cpu_seconds", "Time CPUs spent in each mode (cpu=\"all\": every CPU)", rows);
                counter(r, "context_switches", "Context switches since boot", stat.context_switches);
                counter(r, "interrupts", "Interrupts serviced since boot", stat.interrupts);
                gauge(r, "procs_running", "Tasks runnable now", stat.procs_running);
                gauge(r, "procs_blocked", "Tasks blocked on I/O now", stat.procs_blocked);
                source("stat", true, None);
            }
            Err(e) => source("stat", false, Some(e.to_string())),
        }
        match &s.load {
            Ok(l) => {
                gauge(r, "load1", "Load average over 1 minute", Some(l.one));
                gauge(r, "load5", "Load average over 5 minutes", Some(l.five));
                gauge(r, "load15", "Load average over 15 minutes", Some(l.fifteen));
                source("loadavg", true, None);
            }
            Err(_) => source("loadavg", false, None),
        }
        let mut stalled = Vec::new();
        for (resource, psi) in PSI_RESOURCES.iter().zip(&s.pressure) {
            if let Ok(psi) = psi {
                for (kind, line) in [("some", &psi.some), ("full", &psi.full)] {
                    if let Some(line) = line {
                        let labels = vec![("resource", resource.to_string()), ("kind", kind.to_string())];
                        stalled.push((labels, line.total_us as f64 / 1e6));
                    }
                }
            }
        }
        source("pressure", !stalled.is_empty(), None);
        counters(r, "pressure_stalled_seconds", "Time tasks stalled on a resource (PSI totals)", stalled);
        match &s.memory {
            Ok(m) => {
                gauge(r, "memory_used_bytes", "Memory in use (MemTotal - MemAvailable)", Some(m.used_bytes));
                gauge(
                    r,
                    "memory_available_bytes",
                    "Memory available to start programs",
                    Some(m.available_bytes),
                );
                gauge(r, "memory_cached_bytes", "Page cache", Some(m.cached_bytes));
                gauge(r, "memory_swap_used_bytes", "Swap space in use", Some(m.swap_used_bytes));
                source("meminfo", true, None);
            }
            Err(e) => source("meminfo", false, Some(e.to_string())),
        }
        match &s.vmstat {
            Ok(v) => {
                counter(r, "page_faults", "Page faults since boot", v.pgfault);
                counter(r, "major_page_faults", "Major page faults since boot", v.pgmajfault);
                counter(r, "swap_in_pages", "Pages swapped in since boot", v.pswpin);
                counter(r, "swap_out_pages", "Pages swapped out since boot", v.pswpout);
                source("vmstat", true, None);
            }
            Err(_) => source("vmstat", false, None),
        }
        match &s.disks {
            Ok(disks) => {
                self.disks(r, disks);
                source("diskstats", true, None);
            }
            Err(e) => source("diskstats", false, Some(e.to_string())),
        }
        match &s.network {
            Ok(ifaces) => {
                network(r, ifaces);
                source("netdev", true, None);
            }
            Err(e) => source("netdev", false, Some(e.to_string())),
        }
        match &s.cgroup {
            Ok(cg) => {
                let labels =
                    vec![("version", snake_name(cg.version).unwrap_or_default()), ("path", cg.path.clone())];
                r.register("cgroup_info", "The agent's cgroup", GaugeRows::new(vec![(labels, 1u32)]));
                let cpus =
                    cg.now.cpu_quota.filter(|(_, period)| *period > 0).map(|(q, p)| q as f64 / p as f64);
                gauge(
                    r,
                    "cgroup_cpu_limit_cpus",
                    "CPU quota of the agent's cgroup in CPUs (absent: none)",
                    cpus,
                );
                gauge(
                    r,
                    "cgroup_memory_limit_bytes",
                    "Memory limit of the agent's cgroup (absent: none)",
                    cg.now.memory_limit_bytes,
                );
                gauge(
                    r,
                    "cgroup_memory_usage_bytes",
                    "Memory charged to the agent's cgroup",
                    cg.now.memory_current_bytes,
                );
                source("cgroup", true, None);
            }
            Err(_) => source("cgroup", false, None),
        }
        if root.is_host() {
            match filesystems::read(root) {
                Ok(fs) => {
                    filesystem_space(r, &fs.mounts);
                    source("filesystems", true, None);
                }
                Err(e) => source("filesystems", false, Some(e.to_string())),
            }
        }
        r.register("usage_source_up", "Whether a usage source could be read this scrape", GaugeRows::new(up));
        if s.stat.is_err() && s.memory.is_err() && s.disks.is_err() && s.network.is_err() {
            return Err(failed.join("; ").into());
        }
        Ok(())
    }

    fn cpu_modes(&self, cpu: String, t: &CpuTimes) -> Vec<(Labels, f64)> {
        // Guest time is already counted in user and nice (as node_exporter documents).
        let modes = [
            ("user", t.user),
            ("nice", t.nice),
            ("system", t.system),
            ("idle", t.idle),
            ("iowait", t.iowait),
            ("irq", t.irq),
            ("softirq", t.softirq),
            ("steal", t.steal),
        ];
        modes
            .into_iter()
            .map(|(mode, ticks)| {
                (vec![("cpu", cpu.clone()), ("mode", mode.to_string())], ticks as f64 * self.seconds_per_tick)
            })
            .collect()
    }

    fn disks(&self, r: &mut Registry, disks: &[DiskCounters]) {
        // Labels are built once per disk and shared by its nine series.
        let labels: Vec<Labels> = disks
            .iter()
            .map(|d| vec![("device", d.name.clone()), ("kind", snake_name(d.kind).unwrap_or_default())])
            .collect();
        let ms = |v: u64| v as f64 / 1000.0;
        fn rows<V>(
            disks: &[DiskCounters],
            labels: &[Labels],
            f: impl Fn(&DiskCounters) -> V,
        ) -> Vec<(Labels, V)> {
            disks.iter().zip(labels).map(|(d, l)| (l.clone(), f(d))).collect()
        }
        let family = |f: &dyn Fn(&DiskCounters) -> u64| rows(disks, &labels, f);
        let seconds = |f: &dyn Fn(&DiskCounters) -> f64| rows(disks, &labels, f);
        counters(r, "disk_reads_completed", "Reads completed", family(&|d| d.reads));
        counters(r, "disk_writes_completed", "Writes completed", family(&|d| d.writes));
        counters(
            r,
            "disk_read_bytes",
            "Bytes read",
            family(&|d| d.read_sectors.saturating_mul(DISKSTATS_SECTOR_BYTES)),
        );
        counters(
            r,
            "disk_written_bytes",
            "Bytes written",
            family(&|d| d.write_sectors.saturating_mul(DISKSTATS_SECTOR_BYTES)),
        );
        counters(r, "disk_read_time_seconds", "Time spent on reads", seconds(&|d| ms(d.read_ms)));
        counters(r, "disk_write_time_seconds", "Time spent on writes", seconds(&|d| ms(d.write_ms)));
        counters(
            r,
            "disk_io_time_seconds",
            "Time the device had I/O in flight",
            seconds(&|d| ms(d.io_ticks_ms)),
        );
        counters(
            r,
            "disk_io_time_weighted_seconds",
            "I/O time weighted by requests in flight",
            seconds(&|d| ms(d.weighted_ms)),
        );
        gauges(r, "disk_io_now", "Requests in flight now", family(&|d| d.in_flight));
    }
}

fn network(r: &mut Registry, ifaces: &[NetCounters]) {
    type Field = fn(&NetCounters) -> u64;
    let families: [(&'static str, &'static str, Field); 8] = [
        ("network_receive_bytes", "Bytes received", |n| n.rx_bytes),
        ("network_receive_packets", "Packets received", |n| n.rx_packets),
        ("network_receive_errors", "Receive errors", |n| n.rx_errors),
        ("network_receive_drops", "Received packets dropped", |n| n.rx_drops),
        ("network_transmit_bytes", "Bytes sent", |n| n.tx_bytes),
        ("network_transmit_packets", "Packets sent", |n| n.tx_packets),
        ("network_transmit_errors", "Transmit errors", |n| n.tx_errors),
        ("network_transmit_drops", "Packets dropped on transmit", |n| n.tx_drops),
    ];
    for (name, help, field) in families {
        let rows = ifaces.iter().map(|n| (vec![("device", n.name.clone())], field(n)));
        counters(r, name, help, rows);
    }
}

/// Used and available bytes per filesystem, labelled as the inventory's `filesystem_size_bytes`.
fn filesystem_space(r: &mut Registry, mounts: &[FsUsage]) {
    let labels = |m: &FsUsage| {
        vec![
            ("device", m.source.clone()),
            ("mountpoint", m.mount_point.clone()),
            ("fstype", m.fs_type.clone()),
        ]
    };
    gauges(
        r,
        "filesystem_used_bytes",
        "Bytes in use on a filesystem (statvfs: blocks - free blocks, as df counts them)",
        mounts.iter().map(|m| (labels(m), m.used_bytes)),
    );
    gauges(
        r,
        "filesystem_avail_bytes",
        "Bytes of a filesystem available to unprivileged users (statvfs f_bavail)",
        mounts.iter().map(|m| (labels(m), m.free_bytes)),
    );
}

/// A sample value: integers for counts and bytes, floats for seconds.
pub trait Value: EncodeCounterValue + EncodeGaugeValue + std::fmt::Debug + Send + Sync + 'static {}
impl<V: EncodeCounterValue + EncodeGaugeValue + std::fmt::Debug + Send + Sync + 'static> Value for V {}

/// Registers a counter family unless it has no sample.
fn counters<V: Value>(
    r: &mut Registry,
    name: &'static str,
    help: &'static str,
    rows: impl IntoIterator<Item = (Labels, V)>,
) {
    rows.into_iter().collect::<CounterRows<Labels, V>>().register_in(r, name, help);
}

/// Registers a gauge family unless it has no sample.
fn gauges<V: Value>(
    r: &mut Registry,
    name: &'static str,
    help: &'static str,
    rows: impl IntoIterator<Item = (Labels, V)>,
) {
    rows.into_iter().collect::<GaugeRows<Labels, V>>().register_in(r, name, help);
}

/// A counter without labels, left out when unknown.
fn counter<V: Value>(r: &mut Registry, name: &'static str, help: &'static str, value: Option<V>) {
    counters(r, name, help, value.map(|v| (Labels::new(), v)));
}

/// A gauge without labels, left out when unknown.
fn gauge<V: Value>(r: &mut Registry, name: &'static str, help: &'static str, value: Option<V>) {
    gauges(r, name, help, value.map(|v| (Labels::new(), v)));
}
