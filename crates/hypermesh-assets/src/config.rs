//! How much of the host is kept back for the system, and the health thresholds.

use crate::kind::SharingLevel;
use serde::{Deserialize, Serialize};

/// What the node keeps for itself and never hands out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reserve {
    /// Milli-CPUs kept for the system (taken from the host total, spread over NUMA nodes in
    /// proportion to their CPUs).
    pub cpu_millis: u64,
    /// Memory bytes kept for the system (spread over NUMA nodes in proportion to their memory).
    pub memory_bytes: u64,
    /// Share of each filesystem's size kept free (0.05 = 5 %).
    pub storage_fraction: f64,
}

impl Default for Reserve {
    /// No CPU kept back (the kernel schedules system work between allocations), 1 GiB of
    /// memory, 5 % of every filesystem.
    fn default() -> Self {
        Reserve { cpu_millis: 0, memory_bytes: 1 << 30, storage_fraction: 0.05 }
    }
}

/// Adapter settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// System reserve.
    pub reserve: Reserve,
    /// Sharing level given to every asset.
    pub sharing: SharingLevel,
    /// GPU temperature (°C) from which a GPU is degraded.
    pub gpu_warm_celsius: f64,
    /// GPU temperature (°C) from which a GPU takes no new allocation.
    pub gpu_hot_celsius: f64,
    /// Filesystem use (0..=1) from which it is degraded.
    pub fs_filling: f64,
    /// Filesystem use (0..=1) from which it takes no new allocation.
    pub fs_full: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            reserve: Reserve::default(),
            sharing: SharingLevel::Private,
            gpu_warm_celsius: 85.0,
            gpu_hot_celsius: 95.0,
            fs_filling: 0.90,
            fs_full: 0.98,
        }
    }
}
