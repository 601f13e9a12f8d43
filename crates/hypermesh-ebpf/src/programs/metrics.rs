//! Typed results for metric exporters: histograms with cumulative `le` buckets in seconds,
//! count and sum (Prometheus conventions; the `+Inf` bucket is `count`), and counters.

use crate::maps::Log2Histogram;
use serde::Serialize;

/// A metric family's name and help text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MetricInfo {
    /// Prometheus metric name.
    pub name: &'static str,
    /// One-line description.
    pub help: &'static str,
}

/// Label names and values.
pub type Labels = Vec<(&'static str, String)>;

/// One histogram series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histogram {
    /// Family.
    pub info: MetricInfo,
    /// Labels of this series.
    pub labels: Labels,
    /// `(le_seconds, observations <= le)`, increasing; `+Inf` is `count`.
    pub buckets: Vec<(f64, u64)>,
    /// Observations.
    pub count: u64,
    /// Sum of the observed values, seconds.
    pub sum: f64,
    /// False when `sum` is estimated from bucket midpoints (the program keeps no sum).
    pub sum_exact: bool,
}

/// One counter series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counter {
    /// Family.
    pub info: MetricInfo,
    /// Labels of this series.
    pub labels: Labels,
    /// Value since the program was attached.
    pub value: u64,
}

impl Histogram {
    /// From a log2 histogram of microseconds (slot k: `[2^k, 2^(k+1))` µs, slot 0 from 0):
    /// bucket k gets `le = 2^(k+1)` µs in seconds, up to the last non-empty slot. `sum_ns` is
    /// the exact sum when the program keeps one, else the sum is estimated from midpoints.
    pub fn from_log2_usecs(
        info: &MetricInfo,
        labels: Labels,
        hist: &Log2Histogram,
        sum_ns: Option<u64>,
    ) -> Self {
        let last = hist.slots.iter().rposition(|c| *c > 0).map_or(0, |k| k + 1);
        let mut cumulative = 0;
        let mut estimate_us = 0.0;
        let buckets = hist.slots[..last]
            .iter()
            .enumerate()
            .map(|(k, &n)| {
                cumulative += n;
                let (low, high) = (if k == 0 { 0.0 } else { (1u64 << k) as f64 }, (1u64 << (k + 1)) as f64);
                estimate_us += n as f64 * (low + high) / 2.0;
                (high * 1e-6, cumulative)
            })
            .collect();
        let sum = sum_ns.map_or(estimate_us * 1e-6, |ns| ns as f64 * 1e-9);
        Histogram { info: *info, labels, buckets, count: hist.total(), sum, sum_exact: sum_ns.is_some() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: MetricInfo = MetricInfo { name: "t_seconds", help: "test" };

    #[test]
    fn cumulative_le_seconds() {
        let h = Log2Histogram { slots: vec![1, 0, 3, 2, 0, 0] };
        let m = Histogram::from_log2_usecs(&INFO, vec![("disk", "vda".into())], &h, Some(30_000));
        assert_eq!(m.buckets, vec![(2e-6, 1), (4e-6, 1), (8e-6, 4), (16e-6, 6)]);
        assert_eq!(m.count, 6);
        assert!((m.sum - 30e-6).abs() < 1e-12 && m.sum_exact);
    }

    #[test]
    fn estimated_sum_from_midpoints() {
        let h = Log2Histogram { slots: vec![2, 1] };
        let m = Histogram::from_log2_usecs(&INFO, vec![], &h, None);
        // 2 x 1 us (slot 0 midpoint) + 1 x 3 us (slot 1 midpoint).
        assert!((m.sum - 5e-6).abs() < 1e-12 && !m.sum_exact, "{m:?}");
        assert!(
            Histogram::from_log2_usecs(&INFO, vec![], &Log2Histogram::default(), None).buckets.is_empty()
        );
    }
}
