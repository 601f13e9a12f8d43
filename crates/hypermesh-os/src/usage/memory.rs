//! Memory gauges from `/proc/meminfo` (parsed by [`crate::linux::meminfo`]).

use crate::error::{Error, Result};
use crate::linux::meminfo::Meminfo;
use serde::Serialize;

/// Memory in use now, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MemoryNow {
    /// `MemTotal`.
    pub total_bytes: u64,
    /// Total minus available: memory the system cannot hand out without swapping.
    pub used_bytes: u64,
    /// `MemAvailable` (estimated from free + reclaimable on kernels before 3.14).
    pub available_bytes: u64,
    /// Page cache (`Cached`).
    pub cached_bytes: u64,
    /// `SwapTotal`.
    pub swap_total_bytes: u64,
    /// `SwapTotal - SwapFree`.
    pub swap_used_bytes: u64,
}

/// Reads the gauges from meminfo text.
pub fn parse(text: &str, path: &str) -> Result<MemoryNow> {
    let [total, available, free, buffers, cached, reclaimable, swap_total, swap_free] = Meminfo::lookup(
        text,
        ["MemTotal", "MemAvailable", "MemFree", "Buffers", "Cached", "SReclaimable", "SwapTotal", "SwapFree"],
    );
    let total = total.ok_or_else(|| Error::parse(path, "no MemTotal"))?;
    let [free, buffers, cached, reclaimable, swap_total, swap_free] =
        [free, buffers, cached, reclaimable, swap_total, swap_free].map(|v| v.unwrap_or(0));
    let available = available
        .unwrap_or_else(|| free.saturating_add(buffers).saturating_add(cached).saturating_add(reclaimable));
    let available = available.min(total);
    Ok(MemoryNow {
        total_bytes: total,
        used_bytes: total - available,
        available_bytes: available,
        cached_bytes: cached,
        swap_total_bytes: swap_total,
        swap_used_bytes: swap_total.saturating_sub(swap_free),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn used_is_total_minus_available() {
        let m = parse(
            "MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 600 kB\nCached: 300 kB\nSwapTotal: 50 kB\nSwapFree: 20 kB\n",
            "/proc/meminfo",
        )
        .unwrap();
        assert_eq!(m.used_bytes, 400 * 1024);
        assert_eq!(m.swap_used_bytes, 30 * 1024);
        let old = parse("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 10 kB\nCached: 90 kB\n", "m").unwrap();
        assert_eq!(old.available_bytes, 200 * 1024);
        assert!(parse("garbage", "m").is_err());
    }
}
