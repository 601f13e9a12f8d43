//! The `/metrics` sections that exist, one module each, and `--collectors` selection.
//!
//! Every collector reads through the shared [`Sources`]: `inventory` (the profile detected at
//! start), `usage` (kernel counters sampled per scrape, as `_total` counters), `assets`
//! (capacity and allocation from the ledger per scrape), `health` (SMART, sensors, memory
//! errors; read at most once a minute); and, only when named, `ebpf` (latency
//! histograms from programs loaded for the server's lifetime).

pub mod assets;
pub mod ebpf;
pub mod health;
pub mod inventory;
pub mod usage;

use crate::collector::Collector;
use crate::sources::Sources;
use std::sync::Arc;

/// Builds one collector over the shared sources.
type Constructor = fn(&Arc<Sources>) -> Box<dyn Collector>;

/// Every collector, by name, in scrape order, and whether it runs when `--collectors` is not
/// given (`ebpf` loads programs into the kernel: only on request).
const REGISTRY: [(&str, Constructor, bool); 5] = [
    (inventory::NAME, |s| Box::new(inventory::Inventory::new(s.profile.clone())), true),
    (usage::NAME, |s| Box::new(usage::Usage::new(s.clone())), true),
    (assets::NAME, |s| Box::new(assets::Assets::new(s.clone())), true),
    (health::NAME, |s| Box::new(health::Health::new(s.clone())), true),
    (ebpf::NAME, |s| Box::new(ebpf::Ebpf::new(&s.root_dir)), false),
];

/// Names `--collectors` accepts, in scrape order.
pub fn names() -> Vec<&'static str> {
    REGISTRY.iter().map(|(name, _, _)| *name).collect()
}

/// An unknown name was given to `--collectors`.
#[derive(Debug, thiserror::Error)]
#[error("unknown collector {name:?}; available: {}", names().join(", "))]
pub struct UnknownCollector {
    /// The name as given.
    pub name: String,
}

/// Checks that every name in `selected` is a known collector.
pub fn validate(selected: &[String]) -> Result<(), UnknownCollector> {
    let known = names();
    match selected.iter().map(|n| n.trim()).find(|n| !n.is_empty() && !known.contains(n)) {
        Some(bad) => Err(UnknownCollector { name: bad.to_string() }),
        None => Ok(()),
    }
}

/// Builds the collectors named in `selected` (the default ones when empty), in [`names()`]
/// order.
pub fn build(
    selected: &[String],
    sources: &Arc<Sources>,
) -> Result<Vec<Box<dyn Collector>>, UnknownCollector> {
    let wanted: Vec<&str> = selected.iter().map(|n| n.trim()).filter(|n| !n.is_empty()).collect();
    validate(selected)?;
    Ok(REGISTRY
        .iter()
        .filter(|(name, _, default)| if wanted.is_empty() { *default } else { wanted.contains(name) })
        .map(|(_, construct, _)| construct(sources))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_by_name_and_rejects_unknown() {
        let sources = Arc::new(Sources::new(
            hypermesh_os::FsRoot::host(),
            Arc::new(hypermesh_os::HostProfile::default()),
            Err("not in this test".into()),
        ));
        let defaults: Vec<&str> = build(&[], &sources).unwrap().iter().map(|c| c.name()).collect();
        assert_eq!(defaults, ["inventory", "usage", "assets", "health"]);
        let one = build(&["inventory".into()], &sources).unwrap();
        assert_eq!(one.iter().map(|c| c.name()).collect::<Vec<_>>(), ["inventory"]);
        let err = build(&["inventory".into(), "usgae".into()], &sources).err().unwrap();
        assert_eq!(err.name, "usgae");
        assert!(err.to_string().contains("available: inventory, usage, assets, health, ebpf"), "{err}");
    }
}
