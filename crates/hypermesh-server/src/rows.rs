//! A metric family given as a list of samples, encoded in the order given.
//!
//! prometheus-client's `Family` is built for live instrumentation (a concurrent map of label
//! sets updated over time). A collector that reads the host at scrape time already has every
//! sample in hand; a plain list is cheaper to build and keeps the output order stable.

use hypermesh_ebpf::programs::metrics::Histogram;
use prometheus_client::encoding::{
    EncodeCounterValue, EncodeGaugeValue, EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet,
};
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;
use std::marker::PhantomData;
use std::sync::Arc;

/// Label pairs of one sample.
pub type Labels = Vec<(&'static str, String)>;

pub use hypermesh_os::model::snake_name;

/// Whether a family's samples are gauges or counters.
pub trait Kind {
    /// The metric type written in `# TYPE`.
    const TYPE: MetricType;
}

/// Values that go up and down.
#[derive(Debug)]
pub struct Gauge;

/// Values that only go up (the encoder appends `_total` to the name).
#[derive(Debug)]
pub struct Counter;

impl Kind for Gauge {
    const TYPE: MetricType = MetricType::Gauge;
}

impl Kind for Counter {
    const TYPE: MetricType = MetricType::Counter;
}

/// Samples of one family. Cloning shares the samples, so a collector of values that do not
/// change (the inventory) builds its families once and registers clones on each scrape.
#[derive(Debug)]
pub struct Rows<L, V, K> {
    rows: Arc<[(L, V)]>,
    kind: PhantomData<K>,
}

/// Gauge samples of one family.
pub type GaugeRows<L, V> = Rows<L, V, Gauge>;

/// Counter samples of one family.
pub type CounterRows<L, V> = Rows<L, V, Counter>;

impl<L, V, K> Clone for Rows<L, V, K> {
    fn clone(&self) -> Self {
        Rows { rows: Arc::clone(&self.rows), kind: PhantomData }
    }
}

impl<L, V, K> Rows<L, V, K> {
    /// A family with these samples.
    pub fn new(rows: Vec<(L, V)>) -> Self {
        Rows { rows: rows.into(), kind: PhantomData }
    }

    /// True when there is no sample (such a family is not worth registering).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl<L, V, K> Rows<L, V, K>
where
    Self: EncodeMetric + std::fmt::Debug + Send + Sync + 'static,
{
    /// Registers the family as `name` in `registry`, unless it has no sample.
    pub fn register_in(self, registry: &mut Registry, name: &'static str, help: &'static str) {
        if !self.is_empty() {
            registry.register(name, help, self);
        }
    }
}

impl<L, V, K> FromIterator<(L, V)> for Rows<L, V, K> {
    fn from_iter<I: IntoIterator<Item = (L, V)>>(iter: I) -> Self {
        Rows::new(iter.into_iter().collect())
    }
}

impl<L, V, K: Kind> TypedMetric for Rows<L, V, K> {
    const TYPE: MetricType = K::TYPE;
}

impl<L, V, K> EncodeMetric for Rows<L, V, K>
where
    L: EncodeLabelSet,
    V: EncodeGaugeValue + EncodeCounterValue,
    K: Kind + std::fmt::Debug,
{
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (labels, value) in self.rows.iter() {
            let mut sample = encoder.encode_family(labels)?;
            match K::TYPE {
                MetricType::Counter => sample.encode_counter::<NoLabelSet, _, u64>(value, None)?,
                _ => sample.encode_gauge(value)?,
            }
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        K::TYPE
    }
}

/// Histogram samples of one family, from the eBPF programs' typed results.
#[derive(Debug)]
pub struct HistogramRows {
    rows: Vec<Histogram>,
}

impl HistogramRows {
    /// A family with these series (all of one metric).
    pub fn new(rows: Vec<Histogram>) -> Self {
        HistogramRows { rows }
    }
}

impl TypedMetric for HistogramRows {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for HistogramRows {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for h in &self.rows {
            // The encoder adds the counts up itself: hand it each bucket's own count, and the
            // observations above the last bound under +Inf.
            let mut below = 0;
            let mut buckets: Vec<(f64, u64)> = h
                .buckets
                .iter()
                .map(|&(le, cumulative)| {
                    let own = cumulative.saturating_sub(below);
                    below = below.max(cumulative);
                    (le, own)
                })
                .collect();
            buckets.push((f64::INFINITY, h.count.saturating_sub(below)));
            encoder
                .encode_family(&h.labels)?
                .encode_histogram::<NoLabelSet>(h.sum, h.count, &buckets, None)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}
