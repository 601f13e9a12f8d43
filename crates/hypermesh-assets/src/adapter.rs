//! The adapter interface: one adapter per asset kind turns the host profile and the live state
//! into assets, and the inventory gathers what all adapters found.

use crate::asset::Asset;
use crate::config::Config;
use crate::kind::AssetKind;
use crate::live::LiveState;
use hypermesh_os::{HostProfile, Section};
use serde::{Deserialize, Serialize};

/// Everything an adapter may look at.
#[derive(Debug, Clone, Copy)]
pub struct HostView<'a> {
    /// The inventory.
    pub profile: &'a HostProfile,
    /// The usage sampler's latest figures.
    pub live: &'a LiveState,
    /// Reserve, sharing level and thresholds.
    pub config: &'a Config,
}

/// Something an adapter could not see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterProblem {
    /// Adapter concerned.
    pub kind: AssetKind,
    /// What could not be seen, and why.
    pub message: String,
}

/// Turns one kind of hardware into assets.
pub trait AssetAdapter: Send + Sync {
    /// Kind of the assets it builds.
    fn kind(&self) -> AssetKind;

    /// Builds the assets. `Err` (with the reason) when the profile section it needs is missing;
    /// items it had to leave out go to `problems`.
    fn assets(&self, host: &HostView<'_>, problems: &mut Vec<String>) -> Result<Vec<Asset>, String>;
}

/// Reason a section is missing from a profile, from the profile's own error list.
pub(crate) fn section_missing(profile: &HostProfile, section: Section) -> String {
    let reasons: Vec<String> =
        profile.errors.iter().filter(|e| e.section == section).map(|e| e.to_string()).collect();
    if reasons.is_empty() {
        format!("the {section} section was not detected")
    } else {
        format!("the {section} section could not be read ({})", reasons.join("; "))
    }
}

/// `part` of `total`, scaled to `pool` (integer arithmetic, rounded down so that the shares
/// of all parts never add up to more than `pool`).
pub(crate) fn share(pool: u64, part: u64, total: u64) -> u64 {
    if total == 0 {
        return 0;
    }
    (u128::from(pool) * u128::from(part) / u128::from(total)) as u64
}

/// The assets found by a set of adapters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    /// Assets, in adapter order.
    pub assets: Vec<Asset>,
    /// What could not be seen.
    pub problems: Vec<AdapterProblem>,
    /// Kinds whose adapter failed as a whole: their assets are unknown, not gone.
    pub unseen: Vec<AssetKind>,
    /// What is worth knowing about what is offered: a cpuset that allows less than the machine
    /// has, device health that could not be read.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl Inventory {
    /// Runs every adapter over the host.
    pub fn collect(adapters: &[Box<dyn AssetAdapter>], host: &HostView<'_>) -> Inventory {
        let mut inventory = Inventory { notes: crate::allowed::notes(host.profile), ..Inventory::default() };
        for adapter in adapters {
            let kind = adapter.kind();
            let mut problems = Vec::new();
            match adapter.assets(host, &mut problems) {
                Ok(assets) => inventory.assets.extend(assets),
                Err(message) => {
                    inventory.unseen.push(kind);
                    inventory.problems.push(AdapterProblem { kind, message });
                }
            }
            inventory.problems.extend(problems.into_iter().map(|message| AdapterProblem { kind, message }));
        }
        inventory
    }
}

/// The CPU, GPU, memory and storage adapters.
pub fn default_adapters() -> Vec<Box<dyn AssetAdapter>> {
    use crate::adapters::{CpuAdapter, GpuAdapter, MemoryAdapter, StorageAdapter};
    vec![Box::new(CpuAdapter), Box::new(GpuAdapter), Box::new(MemoryAdapter), Box::new(StorageAdapter)]
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn shares_never_exceed_the_pool() {
        assert_eq!(share(1000, 1, 3) + share(1000, 2, 3), 999);
        assert_eq!(share(u64::MAX, u64::MAX, u64::MAX), u64::MAX);
        assert_eq!(share(10, 1, 0), 0);
    }
}
