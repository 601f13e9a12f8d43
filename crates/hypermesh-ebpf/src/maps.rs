//! Typed map readers: counters, per-CPU arrays (per CPU or summed), log2 histograms.

use crate::error::{Error, Result};
use aya::maps::{Map, MapData, PerCpuArray};
use serde::Serialize;

fn per_cpu(map: &Map) -> Result<PerCpuArray<&MapData, u64>> {
    PerCpuArray::try_from(map).map_err(|e| Error::aya("reading a per-CPU array", e))
}

/// Every slot of a per-CPU `u64` array, one `Vec` per CPU (`[cpu][slot]`).
pub fn per_cpu_slots(map: &Map) -> Result<Vec<Vec<u64>>> {
    let arr = per_cpu(map)?;
    let mut out: Vec<Vec<u64>> = Vec::new();
    for slot in 0..arr.len() {
        let values = arr.get(&slot, 0).map_err(|e| Error::aya(format!("slot {slot}"), e))?;
        if out.is_empty() {
            out = vec![Vec::with_capacity(arr.len() as usize); values.len()];
        }
        for (cpu, v) in values.iter().enumerate() {
            out[cpu].push(*v);
        }
    }
    Ok(out)
}

/// Sums `[cpu][slot]` over CPUs.
pub fn sum_cpus(per_cpu: &[Vec<u64>]) -> Vec<u64> {
    let len = per_cpu.iter().map(Vec::len).max().unwrap_or(0);
    (0..len).map(|i| per_cpu.iter().map(|c| c.get(i).copied().unwrap_or(0)).sum()).collect()
}

/// A per-CPU counter at `index`, summed over CPUs.
pub fn counter(map: &Map, index: u32) -> Result<u64> {
    let arr = per_cpu(map)?;
    Ok(arr.get(&index, 0).map_err(|e| Error::aya(format!("counter {index}"), e))?.iter().sum())
}

/// A log2 histogram: `slots[k]` counts values in `[2^k, 2^(k+1))` (slot 0 also holds 0).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Log2Histogram {
    /// Counts per slot.
    pub slots: Vec<u64>,
}

impl Log2Histogram {
    /// Total count.
    pub fn total(&self) -> u64 {
        self.slots.iter().sum()
    }

    /// Lower and upper bound of slot `k`, as runqlat prints them (0 -> 1, 2 -> 3, 4 -> 7, ...).
    pub fn bounds(k: usize) -> (u64, u64) {
        let high = (1u64 << (k + 1).min(63)) - 1;
        let low = if k == 0 { 0 } else { 1u64 << k };
        (low, high)
    }

    /// Renders like libbpf-tools' `print_log2_hist` (40-star bars), `unit` naming the values.
    pub fn render(&self, unit: &str) -> String {
        let Some(last) = self.slots.iter().rposition(|c| *c > 0) else {
            return format!("(no {unit} recorded)\n");
        };
        let max = self.slots.iter().copied().max().unwrap_or(0).max(1);
        let (pad, width) = if last <= 32 { (5, 19) } else { (15, 29) };
        let num = if last <= 32 { 10 } else { 20 };
        let mut out = format!("{:pad$}{unit:<width$} : count    distribution\n", "");
        for (k, &count) in self.slots.iter().enumerate().take(last + 1) {
            let (low, high) = Self::bounds(k);
            let stars = ((count as u128 * 40) / max as u128) as usize;
            out.push_str(&format!(
                "{low:>num$} -> {high:<num$} : {count:<8} |{:<40}|\n",
                "*".repeat(stars.min(40))
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_like_runqlat() {
        assert_eq!(Log2Histogram::bounds(0), (0, 1));
        assert_eq!(Log2Histogram::bounds(1), (2, 3));
        assert_eq!(Log2Histogram::bounds(4), (16, 31));
    }

    #[test]
    fn renders_bars() {
        let h = Log2Histogram { slots: vec![1, 4, 0, 2, 0, 0] };
        let r = h.render("usecs");
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(lines.len(), 5, "{r}");
        assert_eq!(lines[0], "     usecs               : count    distribution");
        assert_eq!(
            lines[2],
            "         2 -> 3          : 4        |****************************************|"
        );
        assert!(lines[1].contains("|**********                              |"));
        assert_eq!(h.total(), 7);
        assert!(Log2Histogram::default().render("usecs").contains("no usecs"));
    }

    #[test]
    fn sums() {
        assert_eq!(sum_cpus(&[vec![1, 2], vec![3, 4, 5]]), vec![4, 6, 5]);
    }
}
