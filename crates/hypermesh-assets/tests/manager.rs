//! Asset manager behaviour: placement, refusals with reasons, expiry, reconciliation.

mod common;

use common::{cpus, node_assets};
use hypermesh_assets::{
    AllocationState, AssetKind, AssetManager, Error, HealthState, Inventory, LEDGER_FILE, Ledger, Request,
    SharingLevel,
};
use std::time::Duration;

const T0: u64 = 1_800_000_000_000;
const HOUR: Duration = Duration::from_secs(3600);

fn manager() -> AssetManager {
    AssetManager::open_at(node_assets(), Ledger::Memory, T0).unwrap().0
}

fn refusal(result: hypermesh_assets::Result<hypermesh_assets::Allocation>) -> String {
    match result {
        Err(Error::Refused(reason)) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn whole_gpus_go_to_distinct_devices_and_the_third_is_refused() {
    let m = manager();
    let a = m.allocate_at(&Request::new(AssetKind::Gpu, 2, "job-42", HOUR), T0).unwrap();
    let assets: Vec<&str> = a.parts.iter().map(|p| p.asset.as_str()).collect();
    assert_eq!(assets, ["gpu:pci-0000:09:00.0", "gpu:pci-0000:0a:00.0"]);
    assert_eq!(a.expires_ms, T0 + 3_600_000);
    let reason = refusal(m.allocate_at(&Request::new(AssetKind::Gpu, 1, "job-43", HOUR), T0));
    assert!(reason.contains("0 usable gpu asset(s) free"), "{reason}");
    assert!(reason.contains("gpu:pci-0000:09:00.0: 0 free of 1 allocatable"), "{reason}");
}

#[test]
fn cpus_are_placed_on_the_requested_numa_node_and_never_split() {
    let m = manager();
    let mut req = Request::new(AssetKind::Cpu, 2000, "job-1", HOUR);
    req.numa_node = Some(1);
    let a = m.allocate_at(&req, T0).unwrap();
    assert_eq!(a.parts.len(), 1);
    assert_eq!(a.parts[0].asset, "cpu:numa1");
    req.amount = 6000;
    let reason = refusal(m.allocate_at(&req, T0));
    assert!(reason.contains("cpu:numa0: on NUMA node 0"), "{reason}");
    assert!(reason.contains("cpu:numa1: 5.5 free of 7.5 allocatable"), "{reason}");
    // Without the NUMA constraint it fits on node 0.
    req.numa_node = None;
    assert_eq!(m.allocate_at(&req, T0).unwrap().parts[0].asset, "cpu:numa0");
    let status = m.status();
    let numa1 = status.assets.iter().find(|s| s.asset.id == "cpu:numa1").unwrap();
    assert_eq!((numa1.allocated, numa1.free), (2000, 5500));
}

#[test]
fn a_request_from_a_wider_scope_than_the_asset_admits_is_refused() {
    let mut assets = node_assets();
    assets[2].sharing = SharingLevel::P2p;
    let m = AssetManager::open_at(assets, Ledger::Memory, T0).unwrap().0;
    let mut req = Request::new(AssetKind::Gpu, 1, "remote-job", HOUR);
    req.scope = SharingLevel::PublicNetwork;
    let reason = refusal(m.allocate_at(&req, T0));
    assert!(
        reason.contains("gpu:pci-0000:09:00.0: shared at level p2p only, request scope is public_network")
    );
    assert!(reason.contains("gpu:pci-0000:0a:00.0: shared at level private only"), "{reason}");
    req.scope = SharingLevel::P2p;
    assert_eq!(m.allocate_at(&req, T0).unwrap().parts[0].asset, "gpu:pci-0000:09:00.0");
}

#[test]
fn unhealthy_or_unsuitable_assets_are_refused_with_the_reason() {
    let mut assets = node_assets();
    assets[3].health.note(HealthState::Critical, "temperature 97 °C");
    assets[2].allocatable = 0;
    let m = AssetManager::open_at(assets, Ledger::Memory, T0).unwrap().0;
    let reason = refusal(m.allocate_at(&Request::new(AssetKind::Gpu, 1, "j", HOUR), T0));
    assert!(reason.contains("gpu:pci-0000:0a:00.0: unhealthy (temperature 97 °C)"), "{reason}");
    let mut req = Request::new(AssetKind::Storage, 100 << 30, "j", HOUR);
    req.solid_state = true;
    let reason = refusal(m.allocate_at(&req, T0));
    assert!(reason.contains("not known to be on solid-state media"), "{reason}");
    let mut req = Request::new(AssetKind::Cpu, 1000, "j", HOUR);
    req.asset = Some("cpu:numa7".into());
    let reason = refusal(m.allocate_at(&req, T0));
    assert!(reason.contains("no cpu asset cpu:numa7"), "{reason}");
}

#[test]
fn invalid_requests_and_unknown_ids_are_errors() {
    let m = manager();
    assert!(matches!(m.allocate_at(&Request::new(AssetKind::Cpu, 0, "j", HOUR), T0), Err(Error::Invalid(_))));
    assert!(matches!(m.allocate_at(&Request::new(AssetKind::Cpu, 1, " ", HOUR), T0), Err(Error::Invalid(_))));
    let zero = Request::new(AssetKind::Cpu, 1, "j", Duration::ZERO);
    assert!(matches!(m.allocate_at(&zero, T0), Err(Error::Invalid(_))));
    assert!(matches!(m.release(99), Err(Error::UnknownAllocation(99))));
}

#[test]
fn allocations_expire_at_their_deadline() {
    let m = manager();
    let a = m.allocate_at(&Request::new(AssetKind::Gpu, 2, "short", Duration::from_secs(1)), T0).unwrap();
    assert!(m.expire_at(T0 + 999).unwrap().is_empty());
    assert!(m.allocate_at(&Request::new(AssetKind::Gpu, 1, "next", HOUR), T0 + 999).is_err());
    let b = m.allocate_at(&Request::new(AssetKind::Gpu, 1, "next", HOUR), T0 + 1000).unwrap();
    assert!(b.id > a.id);
    assert!(matches!(m.release(a.id), Err(Error::UnknownAllocation(_))));
}

#[test]
fn a_vanished_gpu_leaves_its_allocation_unavailable_and_counted_until_an_operator_marks_it_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(LEDGER_FILE);
    let (gpu_alloc, cpu_alloc) = {
        let (m, report) = AssetManager::open_at(node_assets(), Ledger::open(&path).unwrap(), T0).unwrap();
        assert_eq!(report, Default::default());
        let g = m.allocate_at(&Request::new(AssetKind::Gpu, 1, "job-42", HOUR), T0).unwrap();
        let c = m.allocate_at(&Request::new(AssetKind::Cpu, 1000, "job-43", HOUR), T0).unwrap();
        (g, c)
    };
    assert_eq!(gpu_alloc.parts[0].asset, "gpu:pci-0000:09:00.0");
    // Restart without the first GPU: nothing is written, nothing is lost.
    let bytes = std::fs::read(&path).unwrap();
    let without: Vec<_> = node_assets().into_iter().filter(|a| a.id != "gpu:pci-0000:09:00.0").collect();
    let (m, _) =
        AssetManager::open_at(without.clone(), Ledger::snapshot(&path, Duration::ZERO).unwrap(), T0 + 5)
            .unwrap();
    let status = m.status();
    assert!(status.allocations.iter().all(|a| a.is_active()), "nothing is marked lost by itself");
    assert_eq!(status.unavailable.len(), 1);
    assert_eq!(status.unavailable[0].allocation, gpu_alloc.id);
    assert_eq!(status.unavailable[0].missing, ["gpu:pci-0000:09:00.0"]);
    assert!(status.unavailable[0].counted_against.is_empty(), "the other GPU is other hardware");
    drop(m);
    assert!(std::fs::read(&path).unwrap() == bytes, "reconciling wrote nothing");
    let (m, _) = AssetManager::open_at(without, Ledger::open(&path).unwrap(), T0 + 5).unwrap();
    m.allocate_at(&Request::new(AssetKind::Gpu, 1, "job-44", HOUR), T0 + 5).unwrap();
    drop(m);
    // The GPU is back: its allocation holds it again, so it is not handed out twice.
    let (m, _) = AssetManager::open_at(node_assets(), Ledger::open(&path).unwrap(), T0 + 10).unwrap();
    assert!(m.status().unavailable.is_empty());
    assert!(
        refusal(m.allocate_at(&Request::new(AssetKind::Gpu, 1, "job-45", HOUR), T0 + 10))
            .contains("0 usable")
    );
    // Only an operator marks it lost, which frees the GPU; it stays listed until released.
    assert!(matches!(m.mark_lost(gpu_alloc.id, "bad\nreason", T0 + 20), Err(Error::Invalid(_))));
    let lost = m.mark_lost(gpu_alloc.id, "card pulled", T0 + 20).unwrap();
    assert_eq!(lost.state, AllocationState::Lost { reason: "card pulled".into(), since_ms: T0 + 20 });
    assert!(matches!(m.mark_lost(gpu_alloc.id, "again", T0 + 20), Err(Error::Invalid(_))));
    drop(m);
    let (m, _) = AssetManager::open_at(node_assets(), Ledger::open(&path).unwrap(), T0 + 30).unwrap();
    let listed = m.status().allocations.into_iter().find(|a| a.id == gpu_alloc.id).unwrap();
    assert!(!listed.is_active(), "the mark was written down");
    assert!(m.status().allocations.iter().any(|a| a.id == cpu_alloc.id && a.is_active()));
    m.allocate_at(&Request::new(AssetKind::Gpu, 1, "job-46", HOUR), T0 + 30).unwrap();
    assert_eq!(m.release(gpu_alloc.id).unwrap().id, gpu_alloc.id);
}

/// The case, in the manager: the native backend sees `cpu:numa0` (CPUs 0-1), the
/// portable one `cpu:all` (the same CPUs). Whichever backend looks or allocates, the ids stay
/// those the ledger knows, a look writes nothing, and a 2-CPU node never grants 3 CPUs.
#[test]
fn the_same_cpus_keep_their_id_and_their_allocations_under_either_backend() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(LEDGER_FILE);
    let native = vec![cpus("cpu:numa0", &[0, 1])];
    let portable = vec![cpus("cpu:all", &[0, 1])];
    let wait = Duration::from_secs(5);
    let inventory =
        |assets: &Vec<hypermesh_assets::Asset>| Inventory { assets: assets.clone(), ..Default::default() };
    let (m, _) = AssetManager::open_inventory(&inventory(&native), Ledger::open(&path).unwrap()).unwrap();
    m.allocate(&Request::new(AssetKind::Cpu, 1500, "a", HOUR)).unwrap();
    drop(m);
    let bytes = std::fs::read(&path).unwrap();
    let (m, report) = AssetManager::open_to_look(&inventory(&portable), &path, wait).unwrap();
    let status = m.status();
    assert_eq!(status.assets[0].asset.id, "cpu:numa0", "the ledger's id for these CPUs");
    assert_eq!((status.assets[0].allocated, status.assets[0].free), (1500, 500));
    assert!(status.unavailable.is_empty() && report.overcommitted.is_empty(), "{status:?}");
    drop(m);
    assert!(std::fs::read(&path).unwrap() == bytes, "looking wrote nothing");
    let (m, _) = AssetManager::open_inventory(&inventory(&portable), Ledger::open(&path).unwrap()).unwrap();
    let reason = refusal(m.allocate(&Request::new(AssetKind::Cpu, 1500, "b", HOUR)));
    assert!(reason.contains("cpu:numa0: 0.5 free of 2 allocatable"), "{reason}");
    assert_eq!(
        m.allocate(&Request::new(AssetKind::Cpu, 500, "b", HOUR)).unwrap().parts[0].asset,
        "cpu:numa0"
    );
}

/// Where the other backend sees coarser assets (two NUMA nodes natively, one pool portably), an
/// allocation on a node not seen now counts against the pool that holds its CPUs; one on an
/// asset whose hardware the ledger does not know counts against every asset of its kind.
#[test]
fn allocations_on_assets_not_seen_now_count_against_what_overlaps_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(LEDGER_FILE);
    {
        let native = vec![cpus("cpu:numa0", &[0, 1]), cpus("cpu:numa1", &[2, 3])];
        let m = AssetManager::open_at(native, Ledger::open(&path).unwrap(), T0).unwrap().0;
        let mut req = Request::new(AssetKind::Cpu, 1500, "a", HOUR);
        req.numa_node = None;
        req.asset = Some("cpu:numa0".into());
        m.allocate_at(&req, T0).unwrap();
    }
    let pool = vec![cpus("cpu:all", &[0, 1, 2, 3]), cpus("cpu:other", &[8])];
    let (m, _) = AssetManager::open_at(pool, Ledger::open(&path).unwrap(), T0).unwrap();
    let status = m.status();
    let all = status.assets.iter().find(|s| s.asset.id == "cpu:all").unwrap();
    assert_eq!((all.allocated, all.free), (1500, 2500));
    let other = status.assets.iter().find(|s| s.asset.id == "cpu:other").unwrap();
    assert_eq!(other.allocated, 0, "no shared CPU");
    assert_eq!(status.unavailable[0].counted_against, ["cpu:all"]);
    assert!(m.allocate_at(&Request::new(AssetKind::Cpu, 2600, "b", HOUR), T0).is_err());
    m.allocate_at(&Request::new(AssetKind::Cpu, 2500, "b", HOUR), T0).unwrap();
}

#[test]
fn a_shrunken_limit_is_reported_as_overcommitment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(LEDGER_FILE);
    {
        let m = AssetManager::open_at(node_assets(), Ledger::open(&path).unwrap(), T0).unwrap().0;
        let mut req = Request::new(AssetKind::Cpu, 7000, "big", HOUR);
        req.numa_node = Some(0);
        m.allocate_at(&req, T0).unwrap();
    }
    let mut assets = node_assets();
    assets[0].allocatable = 4000; // e.g. the cgroup CPU limit was lowered
    let (m, report) = AssetManager::open_at(assets, Ledger::open(&path).unwrap(), T0).unwrap();
    assert_eq!(report.overcommitted.len(), 1);
    assert_eq!(report.overcommitted[0].asset, "cpu:numa0");
    assert_eq!((report.overcommitted[0].allocatable, report.overcommitted[0].allocated), (4000, 7000));
    assert_eq!(m.status().assets[0].free, 0);
}

#[test]
fn ids_are_never_reused_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(LEDGER_FILE);
    let first = {
        let m = AssetManager::open_at(node_assets(), Ledger::open(&path).unwrap(), T0).unwrap().0;
        let a = m.allocate_at(&Request::new(AssetKind::Gpu, 1, "j", HOUR), T0).unwrap();
        m.release(a.id).unwrap();
        a.id
    };
    let m = AssetManager::open_at(node_assets(), Ledger::open(&path).unwrap(), T0).unwrap().0;
    assert!(m.status().allocations.is_empty());
    let next = m.allocate_at(&Request::new(AssetKind::Gpu, 1, "j", HOUR), T0).unwrap();
    assert!(next.id > first);
}

#[test]
fn an_unreadable_section_leaves_its_allocations_unverified_not_lost() {
    use hypermesh_assets::{AdapterProblem, Inventory};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(LEDGER_FILE);
    let gpu = {
        let m = AssetManager::open_at(node_assets(), Ledger::open(&path).unwrap(), T0).unwrap().0;
        m.allocate(&Request::new(AssetKind::Gpu, 1, "job-42", HOUR)).unwrap()
    };
    let inventory = Inventory {
        assets: node_assets().into_iter().filter(|a| a.kind != AssetKind::Gpu).collect(),
        problems: vec![AdapterProblem { kind: AssetKind::Gpu, message: "gpus section failed".into() }],
        unseen: vec![AssetKind::Gpu],
        notes: Vec::new(),
    };
    let (m, report) = AssetManager::open_inventory(&inventory, Ledger::open(&path).unwrap()).unwrap();
    assert_eq!(report.unverified, vec![gpu.clone()]);
    assert!(m.status().unavailable.is_empty(), "an unseen kind is unverified, not unavailable");
    assert!(m.status().allocations[0].is_active());
}

#[test]
fn looking_never_writes_not_even_an_expiry_or_a_missing_file() {
    use hypermesh_assets::Inventory;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(LEDGER_FILE);
    let inventory = Inventory { assets: node_assets(), ..Default::default() };
    let wait = Duration::from_secs(5);
    // No ledger yet: none is created.
    let (m, _) = AssetManager::open_to_look(&inventory, &path, wait).unwrap();
    assert!(m.status().allocations.is_empty());
    assert!(!path.exists(), "a look creates nothing");
    let short = {
        let m = AssetManager::open_inventory(&inventory, Ledger::open(&path).unwrap()).unwrap().0;
        m.allocate(&Request::new(AssetKind::Cpu, 1000, "long", HOUR)).unwrap();
        m.allocate(&Request::new(AssetKind::Gpu, 1, "short", Duration::from_millis(300))).unwrap()
    };
    let bytes = std::fs::read(&path).unwrap();
    let (m, report) = AssetManager::open_to_look(&inventory, &path, wait).unwrap();
    assert_eq!(m.status().allocations.len(), 2);
    assert_eq!(report, Default::default());
    drop(m);
    std::thread::sleep(Duration::from_millis(400));
    // The GPU allocation expired: the look says so and no longer counts it, but writes nothing.
    let (m, report) = AssetManager::open_to_look(&inventory, &path, wait).unwrap();
    assert_eq!(report.expired, vec![short.clone()]);
    assert_eq!(m.status().allocations.len(), 1);
    assert!(matches!(m.release(1), Err(Error::ReadOnly(_))));
    drop(m);
    assert!(std::fs::read(&path).unwrap() == bytes, "looking left the file untouched");
    // The next writer deletes it with its own change.
    let m = AssetManager::open_inventory(&inventory, Ledger::open(&path).unwrap()).unwrap().0;
    m.release(1).unwrap();
    drop(m);
    let (m, report) = AssetManager::open_to_look(&inventory, &path, wait).unwrap();
    assert!(m.status().allocations.is_empty() && report.expired.is_empty());
}
