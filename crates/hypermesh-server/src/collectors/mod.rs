//! The `/metrics` sections that exist, one module each, and `--collectors` selection.
//!
//! Only real collectors are listed here. The usage sampler, the eBPF probe and the asset
//! manager plug in as `usage`, `ebpf` and `assets` modules implementing
//! [`Collector`](crate::collector::Collector), each added to the registry below when its
//! crate lands: usage as `_total` counters from raw kernel counters sampled per scrape, eBPF as
//! histograms, assets as capacity/allocation gauges.

pub mod inventory;

use crate::collector::Collector;
use hypermesh_os::HostProfile;
use std::sync::Arc;

/// Builds one collector from the cached inventory.
type Constructor = fn(&Arc<HostProfile>) -> Box<dyn Collector>;

/// Every collector, by name, in scrape order.
const REGISTRY: [(&str, Constructor); 1] =
    [(inventory::NAME, |profile| Box::new(inventory::Inventory::new(profile.clone())))];

/// Names `--collectors` accepts, in scrape order.
pub fn names() -> Vec<&'static str> {
    REGISTRY.iter().map(|(name, _)| *name).collect()
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

/// Builds the collectors named in `selected` (all of them when empty), in [`names()`] order.
pub fn build(
    selected: &[String],
    profile: Arc<HostProfile>,
) -> Result<Vec<Box<dyn Collector>>, UnknownCollector> {
    let wanted: Vec<&str> = selected.iter().map(|n| n.trim()).filter(|n| !n.is_empty()).collect();
    validate(selected)?;
    Ok(REGISTRY
        .iter()
        .filter(|(name, _)| wanted.is_empty() || wanted.contains(name))
        .map(|(_, construct)| construct(&profile))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_by_name_and_rejects_unknown() {
        let profile = Arc::new(HostProfile::default());
        assert_eq!(build(&[], profile.clone()).unwrap().len(), names().len());
        let one = build(&["inventory".into()], profile.clone()).unwrap();
        assert_eq!(one.iter().map(|c| c.name()).collect::<Vec<_>>(), ["inventory"]);
        let err = build(&["inventory".into(), "usgae".into()], profile).err().unwrap();
        assert_eq!(err.name, "usgae");
        assert!(err.to_string().contains("available: inventory"), "{err}");
    }
}
