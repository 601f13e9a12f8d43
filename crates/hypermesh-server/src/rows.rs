//! A metric family given as a list of samples, encoded in the order given.
//!
//! prometheus-client's `Family` is built for live instrumentation (a concurrent map of label
//! sets updated over time). A collector that reads the host at scrape time already has every
//! sample in hand; a plain list is cheaper to build and keeps the output order stable.

use prometheus_client::encoding::{EncodeGaugeValue, EncodeLabelSet, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::{MetricType, TypedMetric};
use std::sync::Arc;

/// Label pairs of one sample.
pub type Labels = Vec<(&'static str, String)>;

/// Gauge samples of one family. Cloning shares the samples, so a collector of values that do
/// not change (the inventory) builds its families once and registers clones on each scrape.
#[derive(Debug)]
pub struct GaugeRows<L, V> {
    rows: Arc<[(L, V)]>,
}

impl<L, V> Clone for GaugeRows<L, V> {
    fn clone(&self) -> Self {
        GaugeRows { rows: Arc::clone(&self.rows) }
    }
}

impl<L, V> GaugeRows<L, V> {
    /// A family with these samples.
    pub fn new(rows: Vec<(L, V)>) -> Self {
        GaugeRows { rows: rows.into() }
    }

    /// True when there is no sample (such a family is not worth registering).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl<L, V> FromIterator<(L, V)> for GaugeRows<L, V> {
    fn from_iter<I: IntoIterator<Item = (L, V)>>(iter: I) -> Self {
        GaugeRows::new(iter.into_iter().collect())
    }
}

impl<L, V> TypedMetric for GaugeRows<L, V> {
    const TYPE: MetricType = MetricType::Gauge;
}

impl<L: EncodeLabelSet, V: EncodeGaugeValue> EncodeMetric for GaugeRows<L, V> {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (labels, value) in self.rows.iter() {
            encoder.encode_family(labels)?.encode_gauge(value)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}
