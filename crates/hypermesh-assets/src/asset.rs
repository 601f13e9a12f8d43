//! One asset as an adapter sees it: identity, capacity, allocatable share, live state.

use crate::kind::{AssetKind, SharingLevel};
use serde::{Deserialize, Serialize};

/// How well an asset is doing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// Nothing wrong seen.
    #[default]
    Ok,
    /// Usable, but something deserves attention (warm GPU, filesystem filling up).
    Degraded,
    /// Must not take new allocations (overheating GPU, full or read-only filesystem).
    Critical,
}

/// Health with the reasons behind it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// Worst state among the reasons.
    pub state: HealthState,
    /// Why the state is not `ok` (empty when it is).
    pub reasons: Vec<String>,
}

impl Health {
    /// Records a finding; the state becomes the worst seen.
    pub fn note(&mut self, state: HealthState, reason: impl Into<String>) {
        self.state = self.state.max(state);
        self.reasons.push(reason.into());
    }
}

/// An asset offered by this node, as built by an adapter from the profile and live state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    /// Stable id: `KIND:KEY`, where KEY names the hardware (`cpu:numa0`, `gpu:GPU-8f..`,
    /// `memory:numa1`, `storage:wwn-0x5000..-part1`), so it survives reboots and renumbering.
    pub id: String,
    /// What it is.
    pub kind: AssetKind,
    /// Short human description (model, mount point, CPU list).
    pub description: String,
    /// NUMA node the asset belongs to, when known.
    pub numa_node: Option<u32>,
    /// Logical CPUs of a CPU asset (empty for other kinds).
    pub cpus: Vec<u32>,
    /// True for storage on solid-state media (NVMe, SSD), `None` when not known or not storage.
    pub solid_state: Option<bool>,
    /// Total amount, in the kind's unit.
    pub capacity: u64,
    /// Amount that may be handed out: capacity minus the system reserve, capped by cgroup limits.
    pub allocatable: u64,
    /// Live utilisation in 0..=1, `None` when the usage sampler gave none.
    pub utilisation: Option<f64>,
    /// Health.
    pub health: Health,
    /// Who may be allotted this asset.
    pub sharing: SharingLevel,
    /// The hardware it is made of, named the same under every backend (`cpu0`, `numa1`,
    /// `/dev/nvme0n1p2`, `pci-0000:01:00.0`); empty when unknown. Assets of one kind that share
    /// a unit share hardware: the ledger uses this to keep ids stable across backends and to
    /// count an allocation on an asset not seen now against the assets that overlap it.
    #[serde(default)]
    pub hardware: Vec<String>,
}
