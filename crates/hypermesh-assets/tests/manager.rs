//! Asset manager behaviour: placement, refusals with reasons, expiry, reconciliation.

mod common;

use common::node_assets;
use hypermesh_assets::{
    AllocationState, AssetKind, AssetManager, Error, HealthState, LEDGER_FILE, Ledger, Request, SharingLevel,
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
fn a_vanished_gpu_marks_its_allocations_lost_durably() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(LEDGER_FILE);
    let (gpu_alloc, cpu_alloc) = {
        let (m, report) = AssetManager::open_at(node_assets(), Ledger::open(&path).unwrap(), T0).unwrap();
        assert_eq!(report, Default::default());
        let g = m.allocate_at(&Request::new(AssetKind::Gpu, 1, "job-42", HOUR), T0).unwrap();
        let c = m.allocate_at(&Request::new(AssetKind::Cpu, 1000, "job-43", HOUR), T0).unwrap();
        (g, c)
    };
    // Restart without the first GPU.
    let assets: Vec<_> = node_assets().into_iter().filter(|a| a.id != "gpu:pci-0000:09:00.0").collect();
    let (m, report) = AssetManager::open_at(assets.clone(), Ledger::open(&path).unwrap(), T0 + 5).unwrap();
    assert_eq!(report.lost.len(), 1);
    assert_eq!(report.lost[0].id, gpu_alloc.id);
    assert_eq!(
        report.lost[0].state,
        AllocationState::Lost { reason: "asset gone: gpu:pci-0000:09:00.0".into(), since_ms: T0 + 5 }
    );
    let status = m.status();
    assert_eq!(status.allocations.len(), 2, "lost allocations stay listed until released");
    assert!(status.allocations.iter().any(|a| a.id == cpu_alloc.id && a.is_active()));
    drop(m);
    // The loss was written down: the next start does not report it again, but still lists it.
    let (m, report) = AssetManager::open_at(assets, Ledger::open(&path).unwrap(), T0 + 10).unwrap();
    assert!(report.lost.is_empty());
    let listed = m.status().allocations.into_iter().find(|a| a.id == gpu_alloc.id).unwrap();
    assert!(!listed.is_active());
    assert_eq!(m.release(gpu_alloc.id).unwrap().id, gpu_alloc.id);
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
    };
    let (m, report) = AssetManager::open_inventory(&inventory, Ledger::open(&path).unwrap()).unwrap();
    assert!(report.lost.is_empty(), "{report:?}");
    assert_eq!(report.unverified, vec![gpu.clone()]);
    assert!(m.status().allocations[0].is_active());
}

#[test]
fn looking_reads_without_writing_unless_something_must_be_recorded() {
    use hypermesh_assets::Inventory;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(LEDGER_FILE);
    let inventory = Inventory { assets: node_assets(), ..Default::default() };
    let wait = Duration::from_secs(5);
    // No ledger yet: created.
    drop(AssetManager::open_to_look(&inventory, &path, wait).unwrap());
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
    assert!(std::fs::read(&path).unwrap() == bytes, "a plain listing leaves the file untouched");
    std::thread::sleep(Duration::from_millis(400));
    // The GPU allocation expired: the listing records that.
    let (m, report) = AssetManager::open_to_look(&inventory, &path, wait).unwrap();
    assert_eq!(report.expired, vec![short]);
    drop(m);
    let m = AssetManager::open_inventory(&inventory, Ledger::open_read_only(&path, wait).unwrap()).unwrap().0;
    assert_eq!(m.status().allocations.len(), 1, "the expiry was written down");
    assert!(matches!(m.release(1), Err(Error::ReadOnly(_))));
}
