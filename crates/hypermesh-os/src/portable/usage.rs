//! How busy the host is, through sysinfo: CPU, memory and network rates between two samples.
//!
//! The output uses the field names of the usage JSON contract (`cpu.total_percent`,
//! `cpu.per_cpu[]`, `memory.used_bytes`, `memory.available_bytes`,
//! `network[].rx_bytes_per_sec`, `network[].tx_bytes_per_sec`) so that it can be merged into the
//! native sampler's types.

use super::from_sysinfo;
use crate::error::{Error, Result};
use serde::Serialize;
use std::collections::HashMap;
use std::time::Instant;
use sysinfo::{
    CpuRefreshKind, MINIMUM_CPU_UPDATE_INTERVAL, MemoryRefreshKind, Networks, RefreshKind, System,
};

/// One reading: rates over the interval since the previous sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortableUsage {
    /// Length of the interval the rates cover, in seconds.
    pub interval_seconds: f64,
    /// CPU utilisation.
    pub cpu: CpuUsage,
    /// Memory in use now.
    pub memory: MemoryUsage,
    /// Per interface traffic, by name.
    pub network: Vec<InterfaceRates>,
}

/// CPU utilisation over the interval: busy time (everything but idle and iowait) over all time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CpuUsage {
    /// All CPUs together, 0–100.
    pub total_percent: f64,
    /// Each CPU, in sysinfo's order.
    pub per_cpu: Vec<CpuPercent>,
}

/// One CPU's utilisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CpuPercent {
    /// Position in sysinfo's CPU list (the OS CPU number when no CPU is offline).
    pub cpu: u32,
    /// Busy percentage, 0–100.
    pub total_percent: f64,
}

/// Memory at the end of the interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryUsage {
    /// Total minus available.
    pub used_bytes: u64,
    /// What sysinfo reports as available (see the profile's memory section).
    pub available_bytes: u64,
}

/// One interface's traffic over the interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InterfaceRates {
    /// Interface name.
    pub name: String,
    /// Bytes received per second; `None` when the interface is new or its counter went back.
    pub rx_bytes_per_sec: Option<f64>,
    /// Bytes sent per second; `None` when the interface is new or its counter went back.
    pub tx_bytes_per_sec: Option<f64>,
}

/// Samples CPU, memory and network counters through sysinfo. Create once, then call
/// [`sample`](Self::sample) at intervals of at least [`MINIMUM_CPU_UPDATE_INTERVAL`].
pub struct PortableSampler {
    system: System,
    networks: Networks,
    /// Cumulative (received, sent) bytes of each interface at the previous sample.
    previous: HashMap<String, (u64, u64)>,
    last: Instant,
}

impl PortableSampler {
    /// Takes the first reading, which the next [`sample`](Self::sample) is measured from.
    pub fn new() -> Result<Self> {
        let refresh = RefreshKind::nothing()
            .with_cpu(CpuRefreshKind::nothing().with_usage())
            .with_memory(MemoryRefreshKind::nothing().with_ram());
        let last = Instant::now();
        let system = System::new_with_specifics(refresh).map_err(|e| from_sysinfo("cpu usage", e))?;
        let networks = Networks::new_with_refreshed_list().map_err(|e| from_sysinfo("network usage", e))?;
        let previous = totals(&networks);
        Ok(PortableSampler { system, networks, previous, last })
    }

    /// Rates since the previous call (or since [`new`](Self::new)). Fails without touching the
    /// counters when less than [`MINIMUM_CPU_UPDATE_INTERVAL`] has passed, as sysinfo would not
    /// refresh CPU times then.
    pub fn sample(&mut self) -> Result<PortableUsage> {
        let now = Instant::now();
        let interval = now.duration_since(self.last);
        if interval < MINIMUM_CPU_UPDATE_INTERVAL {
            return Err(Error::Unavailable(format!(
                "usage: {interval:?} since the previous sample, sysinfo needs at least {MINIMUM_CPU_UPDATE_INTERVAL:?}"
            )));
        }
        self.system.refresh_cpu_usage();
        self.system.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
        self.networks.refresh(true);
        self.last = now;
        let seconds = interval.as_secs_f64();
        let current = totals(&self.networks);
        let mut network: Vec<InterfaceRates> = current
            .iter()
            .map(|(name, &(rx, tx))| {
                let before = self.previous.get(name);
                InterfaceRates {
                    name: name.clone(),
                    rx_bytes_per_sec: before.and_then(|b| rate(b.0, rx, seconds)),
                    tx_bytes_per_sec: before.and_then(|b| rate(b.1, tx, seconds)),
                }
            })
            .collect();
        network.sort_by(|a, b| a.name.cmp(&b.name));
        self.previous = current;
        Ok(PortableUsage {
            interval_seconds: seconds,
            cpu: CpuUsage {
                total_percent: f64::from(self.system.global_cpu_usage()),
                per_cpu: (0u32..)
                    .zip(self.system.cpus())
                    .map(|(cpu, c)| CpuPercent { cpu, total_percent: f64::from(c.usage()) })
                    .collect(),
            },
            memory: MemoryUsage {
                used_bytes: self.system.used_memory(),
                available_bytes: self.system.available_memory(),
            },
            network,
        })
    }
}

fn totals(networks: &Networks) -> HashMap<String, (u64, u64)> {
    networks
        .iter()
        .map(|(name, data)| {
            (name.to_string_lossy().into_owned(), (data.total_received(), data.total_transmitted()))
        })
        .collect()
}

/// Per-second rate of a cumulative counter; `None` when it went back (reset or wrap).
fn rate(before: u64, after: u64, seconds: f64) -> Option<f64> {
    after.checked_sub(before).map(|delta| delta as f64 / seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_never_go_negative() {
        assert_eq!(rate(100, 300, 2.0), Some(100.0));
        assert_eq!(rate(300, 100, 1.0), None);
        assert_eq!(rate(5, 5, 1.0), Some(0.0));
    }

    #[test]
    fn too_early_a_sample_is_refused() {
        let mut sampler = PortableSampler::new().unwrap();
        let err = sampler.sample().unwrap_err();
        assert!(err.to_string().contains("at least"), "{err}");
        std::thread::sleep(MINIMUM_CPU_UPDATE_INTERVAL);
        let usage = sampler.sample().unwrap();
        assert!(usage.interval_seconds >= MINIMUM_CPU_UPDATE_INTERVAL.as_secs_f64());
        assert!((0.0..=100.0).contains(&usage.cpu.total_percent));
        assert!(usage.memory.used_bytes > 0 && usage.memory.available_bytes > 0);
        let json = serde_json::to_value(&usage).unwrap();
        assert!(json["cpu"]["total_percent"].is_number() && json["cpu"]["per_cpu"].is_array());
        assert!(json["memory"]["used_bytes"].is_u64() && json["memory"]["available_bytes"].is_u64());
        let lo = json["network"].as_array().unwrap().iter().find(|i| i["name"] == "lo").unwrap();
        assert!(lo["rx_bytes_per_sec"].is_number() && lo["tx_bytes_per_sec"].is_number());
    }
}
