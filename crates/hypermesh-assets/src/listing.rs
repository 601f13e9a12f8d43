//! A look at the node's assets: what `hypermesh assets --json` prints and `/v1/assets` serves.

use crate::adapter::{AdapterProblem, Inventory};
use crate::error::Result;
use crate::manager::{AssetManager, Reconciliation, Status};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Assets with what is allocated of them, the allocations, and what could not be seen.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    /// The ledger the allocations were read from.
    pub ledger: PathBuf,
    /// Assets and allocations.
    #[serde(flatten)]
    pub status: Status,
    /// What the adapters could not see.
    pub problems: Vec<AdapterProblem>,
    /// What is worth knowing about what is offered (a cpuset allowing less than the machine
    /// has, device health not read).
    pub notes: Vec<String>,
    /// What reconciling the ledger with the hardware found.
    pub reconciliation: Reconciliation,
}

impl Listing {
    /// Reads the ledger at `path` (read-only when it can; waiting up to `wait` for a writer)
    /// and reconciles it with `inventory`.
    pub fn look(inventory: &Inventory, path: &Path, wait: Duration) -> Result<Listing> {
        let (manager, reconciliation) = AssetManager::open_to_look(inventory, path, wait)?;
        Ok(Listing {
            ledger: path.to_path_buf(),
            status: manager.status(),
            problems: inventory.problems.clone(),
            notes: inventory.notes.clone(),
            reconciliation,
        })
    }
}
