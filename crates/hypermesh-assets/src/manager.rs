//! The asset manager: allocate, release, expire and reconcile, with every decision and its
//! ledger commit made under one lock so that no interleaving of requests can over-commit.
//! Only allocate, release, mark-lost and expire write the ledger; looking never does.

use crate::adapter::Inventory;
use crate::allocation::{Allocation, AllocationState, Part, Request, deadline, now_ms};
use crate::asset::{Asset, HealthState};
use crate::error::{Error, Result};
use crate::kind::AssetKind;
use crate::ledger::{Change, Ledger, RecordedAsset};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// An asset with what is handed out of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetStatus {
    /// The asset as its adapter reported it (its id as the ledger knows it).
    #[serde(flatten)]
    pub asset: Asset,
    /// Amount held by active allocations, including those on assets not seen now that may
    /// share its hardware.
    pub allocated: u64,
    /// Amount still allocatable (`allocatable - allocated`, 0 when over-committed).
    pub free: u64,
}

/// An active allocation some of whose assets are not seen now: it keeps what it holds (it is
/// not lost until an operator says so), and counts against every asset seen now that may share
/// the hardware of the missing ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unavailable {
    /// Allocation id.
    pub allocation: u64,
    /// Its assets not seen now.
    pub missing: Vec<String>,
    /// Assets seen now its amounts are counted against.
    pub counted_against: Vec<String>,
}

/// An active allocation on an asset that must not take new allocations now (its device is
/// failing, it is too hot, full...): it keeps what it holds, and is listed with the reasons so
/// that its holder can be moved; it is never dropped for that.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flagged {
    /// Allocation id.
    pub allocation: u64,
    /// The unhealthy asset it holds.
    pub asset: String,
    /// Why the asset is unhealthy.
    pub reasons: Vec<String>,
}

/// Assets and allocations at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// Assets, by id.
    pub assets: Vec<AssetStatus>,
    /// Allocations (active and lost), by id.
    pub allocations: Vec<Allocation>,
    /// Active allocations on assets not seen now.
    pub unavailable: Vec<Unavailable>,
    /// Active allocations on unhealthy (critical) assets, one entry per such asset held.
    #[serde(default)]
    pub flagged: Vec<Flagged>,
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

/// What reconciling the ledger with the hardware found. Nothing here is written to the ledger.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reconciliation {
    /// Allocations whose deadline passed: no longer counted (deleted from the ledger by the
    /// next change a writer makes).
    pub expired: Vec<Allocation>,
    /// Active allocations of kinds that could not be seen this time: kept as they are, since
    /// an unreadable inventory section does not mean the hardware is gone.
    pub unverified: Vec<Allocation>,
    /// Assets whose active allocations exceed what they may hand out now.
    pub overcommitted: Vec<Overcommit>,
    /// What reading the ledger found worth saying (a re-created empty file, a deadline out of
    /// range...).
    pub notes: Vec<String>,
}

/// Serves allocation requests over a set of assets, recording every grant in a ledger.
#[derive(Debug)]
pub struct AssetManager {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Assets seen now, by the id the ledger knows them by.
    assets: BTreeMap<String, Asset>,
    /// Kinds whose adapter saw nothing at all this time.
    unseen: Vec<AssetKind>,
    /// Assets as writers recorded them.
    recorded: BTreeMap<String, RecordedAsset>,
    allocations: BTreeMap<u64, Allocation>,
    /// Expired allocations dropped from the view, to delete with the next change.
    expired_unwritten: Vec<u64>,
    next_id: u64,
    ledger: Ledger,
}

impl AssetManager {
    /// Loads the ledger and reconciles it with `assets` (the hardware found now).
    pub fn open(assets: Vec<Asset>, ledger: Ledger) -> Result<(AssetManager, Reconciliation)> {
        Self::open_at(assets, ledger, now_ms())
    }

    /// Loads the ledger and reconciles it with what the adapters saw: allocations of kinds an
    /// adapter could not see at all are kept and reported as unverified.
    pub fn open_inventory(inventory: &Inventory, ledger: Ledger) -> Result<(AssetManager, Reconciliation)> {
        let (manager, notes) = Self::load(ledger)?;
        let mut report = manager.reconcile(inventory.assets.clone(), &inventory.unseen, now_ms());
        report.notes = notes;
        Ok((manager, report))
    }

    /// Reads the ledger at `path` for a caller that only looks (a listing, a scrape): a
    /// verified copy, taken without writing anything, not even a missing file. `wait` bounds
    /// how long a process holding the ledger is waited for.
    pub fn open_to_look(
        inventory: &Inventory,
        path: &Path,
        wait: Duration,
    ) -> Result<(AssetManager, Reconciliation)> {
        Self::open_inventory(inventory, Ledger::snapshot(path, wait)?)
    }

    /// [`AssetManager::open`] at a given time (ms since the Unix epoch).
    pub fn open_at(assets: Vec<Asset>, ledger: Ledger, now: u64) -> Result<(AssetManager, Reconciliation)> {
        let (manager, notes) = Self::load(ledger)?;
        let mut report = manager.reconcile(assets, &[], now);
        report.notes = notes;
        Ok((manager, report))
    }

    fn load(ledger: Ledger) -> Result<(AssetManager, Vec<String>)> {
        let contents = ledger.load()?;
        let state = State {
            assets: BTreeMap::new(),
            unseen: Vec::new(),
            recorded: contents.assets.into_iter().map(|a| (a.id.clone(), a)).collect(),
            allocations: contents.allocations.into_iter().map(|a| (a.id, a)).collect(),
            expired_unwritten: Vec::new(),
            next_id: contents.next_id,
            ledger,
        };
        Ok((AssetManager { state: Mutex::new(state) }, contents.notes))
    }

    /// Replaces the asset set with what the adapters see now (`unseen`: kinds that could not be
    /// seen at all). An asset whose hardware the ledger knows under another id (recorded by a
    /// writer under another backend, say) takes that id. Expired allocations stop counting;
    /// allocations on assets not seen now keep counting (see [`Unavailable`]). Writes nothing.
    pub fn reconcile(&self, assets: Vec<Asset>, unseen: &[AssetKind], now: u64) -> Reconciliation {
        let mut state = self.lock();
        let assets = canonical(assets, &state.recorded);
        state.assets = assets.into_iter().map(|a| (a.id.clone(), a)).collect();
        state.unseen = unseen.to_vec();
        let expired = state.expire(now);
        let unverified: Vec<Allocation> = state
            .allocations
            .values()
            .filter(|a| a.is_active() && unseen.contains(&a.kind))
            .cloned()
            .collect();
        let held = state.held();
        let overcommitted = state
            .assets
            .values()
            .filter_map(|asset| {
                let allocated = held.get(&asset.id).copied().unwrap_or(0);
                (allocated > asset.allocatable).then(|| Overcommit {
                    asset: asset.id.clone(),
                    allocatable: asset.allocatable,
                    allocated,
                })
            })
            .collect();
        Reconciliation { expired, unverified, overcommitted, notes: Vec::new() }
    }

    /// Grants `request` now, or refuses it with the reason.
    pub fn allocate(&self, request: &Request) -> Result<Allocation> {
        self.allocate_at(request, now_ms())
    }

    /// Grants `request` at time `now` (ms since the Unix epoch). The allocation is returned only
    /// after the ledger committed it.
    pub fn allocate_at(&self, request: &Request, now: u64) -> Result<Allocation> {
        request.validate(now)?;
        let mut state = self.lock();
        state.expire(now);
        let parts = state.pick(request)?;
        let allocation = Allocation {
            id: state.next_id,
            holder: request.holder.clone(),
            kind: request.kind,
            parts,
            scope: request.scope,
            created_ms: now,
            expires_ms: deadline(now, request.duration),
            state: AllocationState::Active,
        };
        state.commit(vec![&allocation], Vec::new(), Some(allocation.id + 1))?;
        state.next_id = allocation.id + 1;
        state.allocations.insert(allocation.id, allocation.clone());
        Ok(allocation)
    }

    /// Releases an allocation (active or lost) and returns it.
    pub fn release(&self, id: u64) -> Result<Allocation> {
        let mut state = self.lock();
        if !state.allocations.contains_key(&id) {
            return Err(Error::UnknownAllocation(id));
        }
        state.commit(Vec::new(), vec![id], None)?;
        state.allocations.remove(&id).ok_or(Error::UnknownAllocation(id))
    }

    /// Marks an active allocation lost at `now`, as an operator declares its hardware gone: it
    /// stops counting against capacity and stays listed until released. `reason` must be a
    /// printable text of at most 256 bytes.
    pub fn mark_lost(&self, id: u64, reason: &str, now: u64) -> Result<Allocation> {
        crate::text::check_name("reason", reason).map_err(Error::Invalid)?;
        let mut state = self.lock();
        let current = state.allocations.get(&id).ok_or(Error::UnknownAllocation(id))?;
        if !current.is_active() {
            return Err(Error::Invalid(format!("allocation {id} is already marked lost")));
        }
        let lost = Allocation {
            state: AllocationState::Lost { reason: reason.to_string(), since_ms: now },
            ..current.clone()
        };
        state.commit(vec![&lost], Vec::new(), None)?;
        state.allocations.insert(id, lost.clone());
        Ok(lost)
    }

    /// Removes every allocation whose deadline is at or before `now` (from the ledger too),
    /// and returns them.
    pub fn expire_at(&self, now: u64) -> Result<Vec<Allocation>> {
        let mut state = self.lock();
        let expired = state.expire(now);
        if !state.expired_unwritten.is_empty() {
            state.commit(Vec::new(), Vec::new(), None)?;
        }
        Ok(expired)
    }

    /// Assets with their allocated and free amounts, and all allocations.
    pub fn status(&self) -> Status {
        let state = self.lock();
        let held = state.held();
        let assets = state
            .assets
            .values()
            .map(|asset| {
                let allocated = held.get(&asset.id).copied().unwrap_or(0);
                AssetStatus {
                    asset: asset.clone(),
                    allocated,
                    free: asset.allocatable.saturating_sub(allocated),
                }
            })
            .collect();
        let unavailable = state
            .allocations
            .values()
            .filter(|a| a.is_active() && !state.unseen.contains(&a.kind))
            .filter_map(|a| {
                let missing: Vec<String> = a
                    .parts
                    .iter()
                    .filter(|p| !state.assets.contains_key(&p.asset))
                    .map(|p| p.asset.clone())
                    .collect();
                let mut counted_against: Vec<String> =
                    missing.iter().flat_map(|m| state.overlapping(a.kind, m)).map(|s| s.id.clone()).collect();
                counted_against.dedup();
                (!missing.is_empty()).then_some(Unavailable { allocation: a.id, missing, counted_against })
            })
            .collect();
        let flagged = state
            .allocations
            .values()
            .filter(|a| a.is_active())
            .flat_map(|a| a.parts.iter().map(move |p| (a.id, &p.asset)))
            .filter_map(|(allocation, id)| {
                let asset = state.assets.get(id).filter(|s| s.health.state == HealthState::Critical)?;
                Some(Flagged { allocation, asset: id.clone(), reasons: asset.health.reasons.clone() })
            })
            .collect();
        Status { assets, allocations: state.allocations.values().cloned().collect(), unavailable, flagged }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // State is only changed after the ledger accepted the change, so a panic elsewhere while
        // the lock was held cannot have left it half-updated.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The assets seen now, each under the id the ledger knows its hardware by: an asset whose own
/// id is not recorded takes the id of a recorded asset of the same kind with exactly the same
/// hardware (and not seen now under its own id). So `cpu:all` of the portable backend is
/// `cpu:numa0` when a native writer recorded those CPUs under that id.
fn canonical(mut assets: Vec<Asset>, recorded: &BTreeMap<String, RecordedAsset>) -> Vec<Asset> {
    let seen: BTreeSet<String> = assets.iter().map(|a| a.id.clone()).collect();
    let mut taken = BTreeSet::new();
    for asset in &mut assets {
        if recorded.contains_key(&asset.id) || asset.hardware.is_empty() {
            continue;
        }
        let hardware: BTreeSet<&String> = asset.hardware.iter().collect();
        if let Some(r) = recorded.values().find(|r| {
            r.kind == asset.kind
                && !seen.contains(&r.id)
                && !taken.contains(&r.id)
                && r.hardware.iter().collect::<BTreeSet<_>>() == hardware
        }) {
            taken.insert(r.id.clone());
            asset.id = r.id.clone();
        }
    }
    assets
}

impl State {
    /// Amount held per asset seen now by active allocations: on the asset itself, or, for an
    /// asset not seen now (of a kind that was seen), on every asset seen now that may share
    /// its hardware, so that what is unavailable is never handed out twice.
    fn held(&self) -> HashMap<String, u64> {
        let mut held: HashMap<String, u64> = HashMap::new();
        for a in self.allocations.values().filter(|a| a.is_active()) {
            for p in &a.parts {
                if self.assets.contains_key(&p.asset) {
                    let h = held.entry(p.asset.clone()).or_default();
                    *h = h.saturating_add(p.amount);
                } else if !self.unseen.contains(&a.kind) {
                    for s in self.overlapping(a.kind, &p.asset) {
                        let h = held.entry(s.id.clone()).or_default();
                        *h = h.saturating_add(p.amount);
                    }
                }
            }
        }
        held
    }

    /// Assets seen now of `kind` that may share hardware with the asset `id` (not seen now):
    /// those whose recorded hardware overlaps, every one of the kind when either side's
    /// hardware is unknown.
    fn overlapping<'a>(&'a self, kind: AssetKind, id: &str) -> impl Iterator<Item = &'a Asset> + 'a {
        let hardware: BTreeSet<String> =
            self.recorded.get(id).map(|r| r.hardware.iter().cloned().collect()).unwrap_or_default();
        self.assets.values().filter(move |s| {
            s.kind == kind
                && (hardware.is_empty()
                    || s.hardware.is_empty()
                    || s.hardware.iter().any(|h| hardware.contains(h)))
        })
    }

    /// Commits a change, with the expired allocations not yet deleted and the assets seen now
    /// that the ledger does not know as they are; updates the state's record of both.
    fn commit(&mut self, put: Vec<&Allocation>, mut delete: Vec<u64>, next_id: Option<u64>) -> Result<()> {
        delete.extend(&self.expired_unwritten);
        let record: Vec<RecordedAsset> = self
            .assets
            .values()
            .map(|a| RecordedAsset { id: a.id.clone(), kind: a.kind, hardware: a.hardware.clone() })
            .filter(|r| self.recorded.get(&r.id) != Some(r))
            .collect();
        self.ledger.apply(&Change { put, delete, next_id, record: record.clone() })?;
        self.expired_unwritten.clear();
        self.recorded.extend(record.into_iter().map(|r| (r.id.clone(), r)));
        Ok(())
    }

    /// Drops every allocation whose deadline is at or before `now` from the view (they are
    /// deleted from the ledger with the next change) and returns them.
    fn expire(&mut self, now: u64) -> Vec<Allocation> {
        let ids: Vec<u64> = self.allocations.values().filter(|a| a.expires_ms <= now).map(|a| a.id).collect();
        let expired: Vec<Allocation> = ids.iter().filter_map(|id| self.allocations.remove(id)).collect();
        self.expired_unwritten.extend(ids);
        expired
    }

    /// Chooses where a request goes: one asset with enough free (the tightest fit) for pooled
    /// kinds, `amount` distinct assets for whole devices. Refuses with every asset's reason.
    fn pick(&self, request: &Request) -> Result<Vec<Part>> {
        let kind = request.kind;
        let whole = kind.whole_devices();
        let mut reasons = Vec::new();
        let mut fits: Vec<(&Asset, u64)> = Vec::new();
        let held = self.held();
        let candidates = self
            .assets
            .values()
            .filter(|a| a.kind == kind && request.asset.as_ref().is_none_or(|want| *want == a.id));
        for asset in candidates {
            let allocated = held.get(&asset.id).copied().unwrap_or(0);
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
