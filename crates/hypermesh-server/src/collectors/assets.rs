//! `assets`: what this node offers and what is handed out, read from the ledger per scrape.
//!
//! Per asset: `hypermesh_asset_{capacity,allocatable,allocated,free}` in the kind's base unit
//! (`unit` label: `cpus`, `gpus`, `bytes`), with `asset`, `kind` and `numa` labels, and
//! `hypermesh_asset_healthy` (0 when degraded or critical, its device's failing health checks
//! included; the reasons are in `/v1/assets`). Allocations: `hypermesh_asset_allocations{kind,state}`, state
//! `active`, `unavailable` (on an asset not seen now; still counted) or `lost` (marked so by an
//! operator). Reading the ledger here never writes it.

use crate::collector::{CollectError, Collector};
use crate::rows::{GaugeRows, Labels};
use crate::sources::Sources;
use hypermesh_assets::{AllocationState, AssetKind, AssetStatus, HealthState};
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Name of this collector.
pub const NAME: &str = "assets";

/// Reads the asset view on each scrape.
pub struct Assets {
    sources: Arc<Sources>,
}

impl Assets {
    /// A collector over `sources.assets`.
    pub fn new(sources: Arc<Sources>) -> Self {
        Assets { sources }
    }
}

impl Collector for Assets {
    fn name(&self) -> &'static str {
        NAME
    }

    fn collect(&self, r: &mut Registry) -> Result<(), CollectError> {
        let source = self.sources.assets.as_ref().map_err(|why| why.clone())?;
        let listing = source.listing()?;
        let assets = &listing.status.assets;
        type Amount = fn(&AssetStatus) -> u64;
        let families: [(&'static str, &'static str, Amount); 4] = [
            ("asset_capacity", "Total amount of an asset", |s| s.asset.capacity),
            ("asset_allocatable", "Amount that may be handed out (after reserve and cgroup caps)", |s| {
                s.asset.allocatable
            }),
            ("asset_allocated", "Amount held by active allocations", |s| s.allocated),
            ("asset_free", "Amount still allocatable", |s| s.free),
        ];
        for (name, help, amount) in families {
            let rows: GaugeRows<Labels, f64> =
                assets.iter().map(|s| (labels(s), in_base_unit(s.asset.kind, amount(s)))).collect();
            rows.register_in(r, name, help);
        }
        let healthy: GaugeRows<Labels, u32> =
            assets.iter().map(|s| (labels(s), u32::from(s.asset.health.state == HealthState::Ok))).collect();
        healthy.register_in(r, "asset_healthy", "Whether an asset is healthy (1) or degraded or failed (0)");
        let mut counts: BTreeMap<(AssetKind, &str), u64> = BTreeMap::new();
        for a in &listing.status.allocations {
            let unavailable = listing.status.unavailable.iter().any(|u| u.allocation == a.id);
            let state = match a.state {
                AllocationState::Active if unavailable => "unavailable",
                AllocationState::Active => "active",
                AllocationState::Lost { .. } => "lost",
            };
            *counts.entry((a.kind, state)).or_default() += 1;
        }
        let allocations: GaugeRows<Labels, u64> = counts
            .into_iter()
            .map(|((kind, state), n)| {
                (vec![("kind", kind.name().to_string()), ("state", state.to_string())], n)
            })
            .collect();
        r.register(
            "asset_allocations",
            "Allocations in the ledger by kind and state (active, unavailable, lost)",
            allocations,
        );
        Ok(())
    }
}

fn labels(s: &AssetStatus) -> Labels {
    let a = &s.asset;
    let unit = match a.kind {
        AssetKind::Cpu => "cpus",
        AssetKind::Gpu => "gpus",
        AssetKind::Memory | AssetKind::Storage => "bytes",
    };
    vec![
        ("asset", a.id.clone()),
        ("kind", a.kind.name().to_string()),
        ("numa", a.numa_node.map(|n| n.to_string()).unwrap_or_default()),
        ("unit", unit.to_string()),
    ]
}

/// CPUs are counted in milli-CPUs inside the manager; exported as CPUs.
fn in_base_unit(kind: AssetKind, amount: u64) -> f64 {
    match kind {
        AssetKind::Cpu => amount as f64 / 1000.0,
        _ => amount as f64,
    }
}
