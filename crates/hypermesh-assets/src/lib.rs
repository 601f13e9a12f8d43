//! HyperMesh asset adapters and the asset manager.
//!
//! Adapters ([`AssetAdapter`]) turn the OS layer's [`hypermesh_os::HostProfile`] and the usage
//! sampler's [`LiveState`] into [`Asset`]s with stable ids, capacity and allocatable amounts.
//! The [`AssetManager`] hands them out to holders for a time, never over-committing, and
//! records every grant in a [`Ledger`] (redb, fsync'd) before acknowledging it.

pub mod adapter;
pub mod adapters;
pub mod allocation;
pub mod allowed;
pub mod asset;
pub mod config;
#[cfg(native_linux)]
pub mod device_health;
pub mod error;
pub mod kind;
pub mod ledger;
pub mod listing;
pub mod live;
pub mod manager;
pub mod text;

pub use adapter::{AdapterProblem, AssetAdapter, HostView, Inventory, default_adapters};
pub use allocation::{
    Allocation, AllocationState, MAX_DEADLINE_MS, Part, Request, format_deadline, now_ms, parse_duration,
};
pub use asset::{Asset, Health, HealthState};
pub use config::{Config, Reserve};
pub use error::{Error, Result};
pub use kind::{AssetKind, SharingLevel};
pub use ledger::{LEDGER_FILE, Ledger, RecordedAsset, Recovery, backup_path, default_state_dir};
pub use listing::Listing;
pub use live::LiveState;
pub use manager::{AssetManager, AssetStatus, Flagged, Overcommit, Reconciliation, Status, Unavailable};
