//! The asset manager: allocate, release, expire and reconcile, with every decision and its
//! ledger commit made under one lock so that no interleaving of requests can over-commit.

use crate::adapter::Inventory;
use crate::allocation::{Allocation, AllocationState, Part, Request, now_ms};
use crate::asset::{Asset, HealthState};
use crate::error::{Error, Result};
use crate::kind::AssetKind;
use crate::ledger::{Change, Ledger};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// An asset with what is handed out of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetStatus {
    /// The asset as its adapter reported it.
    #[serde(flatten)]
    pub asset: Asset,
    /// Amount held by active allocations.
    pub allocated: u64,
    /// Amount still allocatable (`allocatable - allocated`, 0 when over-committed).
    pub free: u64,
}

/// Assets and allocations at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// Assets, by id.
    pub assets: Vec<AssetStatus>,
    /// Allocations (active and lost), by id.
    pub allocations: Vec<Allocation>,
}

/// An asset holding more than it may now hand out (its limit shrank since the allocations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overcommit {
    /// Asset id.
    pub asset: String,
    /// What it may hand out now.
    pub allocatable: u64,
    /// What active allocations hold.
    pub allocated: u64,
}

/// What reconciling the ledger with the hardware found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reconciliation {
    /// Allocations that just lost an asset (now marked lost in the ledger).
    pub lost: Vec<Allocation>,
    /// Allocations removed because their deadline passed.
    pub expired: Vec<Allocation>,
    /// Active allocations of kinds that could not be seen this time: kept as they are, since
    /// an unreadable inventory section does not mean the hardware is gone.
    pub unverified: Vec<Allocation>,
    /// Assets whose active allocations exceed what they may hand out now.
    pub overcommitted: Vec<Overcommit>,
}

/// Serves allocation requests over a set of assets, recording every grant in a ledger.
#[derive(Debug)]
pub struct AssetManager {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    assets: BTreeMap<String, Asset>,
    allocations: BTreeMap<u64, Allocation>,
    /// Amount held per asset by active allocations.
    allocated: HashMap<String, u64>,
    next_id: u64,
    ledger: Ledger,
}

impl AssetManager {
    /// Loads the ledger and reconciles it with `assets` (the hardware found now).
    pub fn open(assets: Vec<Asset>, ledger: Ledger) -> Result<(AssetManager, Reconciliation)> {
        Self::open_at(assets, ledger, now_ms())
    }

    /// Loads the ledger and reconciles it with what the adapters saw: allocations of kinds an
    /// adapter could not see at all are kept and reported as unverified, not lost.
    pub fn open_inventory(inventory: &Inventory, ledger: Ledger) -> Result<(AssetManager, Reconciliation)> {
        let manager = Self::load(ledger)?;
        let report = manager.reconcile(inventory.assets.clone(), &inventory.unseen, now_ms())?;
        Ok((manager, report))
    }

    /// Opens the ledger at `path` for a caller that only looks (a listing): read-only, with no
    /// write and no fsync, unless reconciling needs to record something (allocations lost or
    /// expired) or the file does not exist yet; then it is opened for writing. `wait` bounds
    /// how long another process holding the ledger is waited for.
    pub fn open_to_look(
        inventory: &Inventory,
        path: &Path,
        wait: Duration,
    ) -> Result<(AssetManager, Reconciliation)> {
        if path.exists()
            && let Ok(ledger) = Ledger::open_read_only(path, wait)
        {
            // Err(ReadOnly): something to record. Any other error is met again, and reported,
            // by the writable open below.
            if let Ok(opened) = Self::open_inventory(inventory, ledger) {
                return Ok(opened);
            }
        }
        Self::open_inventory(inventory, Ledger::open_wait(path, wait)?)
    }

    /// [`AssetManager::open`] at a given time (ms since the Unix epoch).
    pub fn open_at(assets: Vec<Asset>, ledger: Ledger, now: u64) -> Result<(AssetManager, Reconciliation)> {
        let manager = Self::load(ledger)?;
        let report = manager.reconcile(assets, &[], now)?;
        Ok((manager, report))
    }

    fn load(ledger: Ledger) -> Result<AssetManager> {
        let contents = ledger.load()?;
        let mut state = State {
            assets: BTreeMap::new(),
            allocations: contents.allocations.into_iter().map(|a| (a.id, a)).collect(),
            allocated: HashMap::new(),
            next_id: contents.next_id,
            ledger,
        };
        state.recount();
        Ok(AssetManager { state: Mutex::new(state) })
    }

    /// Replaces the asset set with what the adapters see now (`unseen`: kinds that could not be
    /// seen at all): allocations on assets that are gone are marked lost (durably), expired ones
    /// removed, over-commitment reported.
    pub fn reconcile(&self, assets: Vec<Asset>, unseen: &[AssetKind], now: u64) -> Result<Reconciliation> {
        let mut state = self.lock();
        state.assets = assets.into_iter().map(|a| (a.id.clone(), a)).collect();
        let expired = state.expire(now)?;
        let (unverified, seen): (Vec<&Allocation>, Vec<&Allocation>) =
            state.allocations.values().filter(|a| a.is_active()).partition(|a| unseen.contains(&a.kind));
        let unverified: Vec<Allocation> = unverified.into_iter().cloned().collect();
        let lost: Vec<Allocation> = seen
            .into_iter()
            .filter_map(|a| {
                let gone: Vec<&str> = a
                    .parts
                    .iter()
                    .filter(|p| !state.assets.contains_key(&p.asset))
                    .map(|p| p.asset.as_str())
                    .collect();
                (!gone.is_empty()).then(|| Allocation {
                    state: AllocationState::Lost {
                        reason: format!("asset gone: {}", gone.join(", ")),
                        since_ms: now,
                    },
                    ..a.clone()
                })
            })
            .collect();
        if !lost.is_empty() {
            state.ledger.apply(&Change { put: lost.iter().collect(), ..Change::default() })?;
            for a in &lost {
                state.allocations.insert(a.id, a.clone());
            }
            state.recount();
        }
        let overcommitted = state
            .assets
            .values()
            .filter_map(|asset| {
                let allocated = state.allocated_on(&asset.id);
                (allocated > asset.allocatable).then(|| Overcommit {
                    asset: asset.id.clone(),
                    allocatable: asset.allocatable,
                    allocated,
                })
            })
            .collect();
        Ok(Reconciliation { lost, expired, unverified, overcommitted })
    }

    /// Grants `request` now, or refuses it with the reason.
    pub fn allocate(&self, request: &Request) -> Result<Allocation> {
        self.allocate_at(request, now_ms())
    }

    /// Grants `request` at time `now` (ms since the Unix epoch). The allocation is returned only
    /// after the ledger committed it.
    pub fn allocate_at(&self, request: &Request, now: u64) -> Result<Allocation> {
        validate(request)?;
        let mut state = self.lock();
        state.expire(now)?;
        let parts = state.pick(request)?;
        let duration_ms = u64::try_from(request.duration.as_millis()).unwrap_or(u64::MAX);
        let allocation = Allocation {
            id: state.next_id,
            holder: request.holder.clone(),
            kind: request.kind,
            parts,
            scope: request.scope,
            created_ms: now,
            expires_ms: now.saturating_add(duration_ms),
            state: AllocationState::Active,
        };
        state.ledger.apply(&Change {
            put: vec![&allocation],
            delete: vec![],
            next_id: Some(allocation.id + 1),
        })?;
        state.next_id = allocation.id + 1;
        state.hold(&allocation, true);
        state.allocations.insert(allocation.id, allocation.clone());
        Ok(allocation)
    }

    /// Releases an allocation (active or lost) and returns it.
    pub fn release(&self, id: u64) -> Result<Allocation> {
        let mut state = self.lock();
        if !state.allocations.contains_key(&id) {
            return Err(Error::UnknownAllocation(id));
        }
        state.ledger.apply(&Change { delete: vec![id], ..Change::default() })?;
        let allocation = state.allocations.remove(&id).ok_or(Error::UnknownAllocation(id))?;
        state.hold(&allocation, false);
        Ok(allocation)
    }

    /// Removes every allocation whose deadline is at or before `now`, and returns them.
    pub fn expire_at(&self, now: u64) -> Result<Vec<Allocation>> {
        self.lock().expire(now)
    }

    /// Assets with their allocated and free amounts, and all allocations.
    pub fn status(&self) -> Status {
        let state = self.lock();
        let assets = state
            .assets
            .values()
            .map(|asset| {
                let allocated = state.allocated_on(&asset.id);
                AssetStatus {
                    asset: asset.clone(),
                    allocated,
                    free: asset.allocatable.saturating_sub(allocated),
                }
            })
            .collect();
        Status { assets, allocations: state.allocations.values().cloned().collect() }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // State is only changed after the ledger accepted the change, so a panic elsewhere while
        // the lock was held cannot have left it half-updated.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn validate(request: &Request) -> Result<()> {
    if request.amount == 0 {
        return Err(Error::Invalid("the amount must be positive".into()));
    }
    if request.holder.trim().is_empty() {
        return Err(Error::Invalid("the holder must be named".into()));
    }
    if request.duration.is_zero() {
        return Err(Error::Invalid("the duration must be positive".into()));
    }
    Ok(())
}

impl State {
    fn allocated_on(&self, asset: &str) -> u64 {
        self.allocated.get(asset).copied().unwrap_or(0)
    }

    /// Adds (or removes) what an active allocation holds to the per-asset totals.
    fn hold(&mut self, allocation: &Allocation, add: bool) {
        if !allocation.is_active() {
            return;
        }
        for part in &allocation.parts {
            let held = self.allocated.entry(part.asset.clone()).or_insert(0);
            *held = if add { held.saturating_add(part.amount) } else { held.saturating_sub(part.amount) };
        }
        self.allocated.retain(|_, v| *v > 0);
    }

    fn recount(&mut self) {
        self.allocated.clear();
        let active: Vec<Allocation> = self.allocations.values().filter(|a| a.is_active()).cloned().collect();
        for a in &active {
            self.hold(a, true);
        }
    }

    fn expire(&mut self, now: u64) -> Result<Vec<Allocation>> {
        let ids: Vec<u64> = self.allocations.values().filter(|a| a.expires_ms <= now).map(|a| a.id).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.ledger.apply(&Change { delete: ids.clone(), ..Change::default() })?;
        let mut expired = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(a) = self.allocations.remove(&id) {
                self.hold(&a, false);
                expired.push(a);
            }
        }
        Ok(expired)
    }

    /// Chooses where a request goes: one asset with enough free (the tightest fit) for pooled
    /// kinds, `amount` distinct assets for whole devices. Refuses with every asset's reason.
    fn pick(&self, request: &Request) -> Result<Vec<Part>> {
        let kind = request.kind;
        let whole = kind.whole_devices();
        let mut reasons = Vec::new();
        let mut fits: Vec<(&Asset, u64)> = Vec::new();
        let candidates = self
            .assets
            .values()
            .filter(|a| a.kind == kind && request.asset.as_ref().is_none_or(|want| *want == a.id));
        for asset in candidates {
            let allocated = self.allocated_on(&asset.id);
            let free = asset.allocatable.saturating_sub(allocated);
            let why = if !asset.sharing.admits(request.scope) {
                Some(format!("shared at level {} only, request scope is {}", asset.sharing, request.scope))
            } else if request.numa_node.is_some() && asset.numa_node != request.numa_node {
                Some(match asset.numa_node {
                    Some(n) => format!("on NUMA node {n}"),
                    None => "NUMA node unknown".into(),
                })
            } else if request.solid_state && asset.solid_state != Some(true) {
                Some("not known to be on solid-state media".into())
            } else if asset.health.state == HealthState::Critical {
                Some(format!("unhealthy ({})", asset.health.reasons.join(", ")))
            } else if free == 0 || (!whole && free < request.amount) {
                Some(format!(
                    "{} free of {} allocatable",
                    kind.format_amount(free),
                    kind.format_amount(asset.allocatable)
                ))
            } else {
                None
            };
            match why {
                Some(why) => reasons.push(format!("{}: {why}", asset.id)),
                None => fits.push((asset, free)),
            }
        }
        let wanted = kind.format_amount(request.amount);
        if whole {
            if fits.len() as u64 >= request.amount {
                return Ok(fits
                    .iter()
                    .take(request.amount as usize)
                    .map(|(a, _)| Part { asset: a.id.clone(), amount: 1 })
                    .collect());
            }
            if !(fits.is_empty() && reasons.is_empty()) {
                reasons.insert(0, format!("{} usable {kind} asset(s) free", fits.len()));
            }
        } else if let Some((asset, _)) = fits.iter().min_by_key(|(a, free)| (*free, a.id.as_str())) {
            return Ok(vec![Part { asset: asset.id.clone(), amount: request.amount }]);
        }
        if reasons.is_empty() {
            reasons.push(match &request.asset {
                Some(id) => format!("this node has no {kind} asset {id}"),
                None => format!("this node offers no {kind} asset"),
            });
        }
        Err(Error::Refused(format!("{wanted} {kind} for {}: {}", request.holder, reasons.join("; "))))
    }
}
