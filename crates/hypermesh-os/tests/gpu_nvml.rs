//! NVML merge logic against a stand-in [`NvmlApi`]: the values below are test data, never shown
//! as real anywhere else.

#![cfg(native_linux)]

use hypermesh_os::gpu::nvml::{NvmlApi, NvmlDevice, merge};
use hypermesh_os::model::{Gpu, MigMode, PcieLink};
use std::collections::HashMap;

struct Stub {
    devices: HashMap<String, NvmlDevice>,
    versions_fail: bool,
}

impl NvmlApi for Stub {
    fn driver_version(&self) -> Result<String, String> {
        if self.versions_fail { Err("Unknown Error".into()) } else { Ok("550.54.15".into()) }
    }
    fn cuda_version(&self) -> Result<String, String> {
        if self.versions_fail { Err("Unknown Error".into()) } else { Ok("12.4".into()) }
    }
    fn device(&self, pci_bus_id: &str) -> Result<NvmlDevice, String> {
        self.devices.get(pci_bus_id).cloned().ok_or_else(|| "Not Found".into())
    }
}

fn pci_gpu(addr: &str, vendor_id: &str, model: &str) -> Gpu {
    Gpu {
        pci_address: addr.into(),
        vendor_id: vendor_id.into(),
        model: Some(model.into()),
        pcie: Some(PcieLink {
            current_speed_gts: Some(16.0),
            current_generation: Some(4),
            ..PcieLink::default()
        }),
        ..Gpu::default()
    }
}

fn h100() -> NvmlDevice {
    NvmlDevice {
        name: Some("NVIDIA H100 80GB HBM3".into()),
        uuid: Some("GPU-00000000-1111-2222-3333-444444444444".into()),
        serial: Some("1650000000001".into()),
        memory_total: Some(85_520_809_984),
        memory_used: Some(1_048_576),
        memory_free: Some(85_519_761_408),
        utilization: Some((37, 12)),
        temperature: Some(41),
        power_draw_mw: Some(71_500),
        power_limit_mw: Some(700_000),
        sm_clock: (Some(1980), Some(1980)),
        memory_clock: (Some(2619), Some(2619)),
        pcie_generation: (Some(5), Some(5)),
        pcie_width: (Some(16), Some(16)),
        mig: Some(MigMode { enabled: false, pending: true }),
        ecc_enabled: Some(true),
        compute_capability: Some((9, 0)),
        notes: vec!["NVML serial: Insufficient Permissions".into()],
    }
}

#[test]
fn nvml_facts_join_the_pci_entry_of_the_same_bus_id() {
    let stub = Stub { devices: HashMap::from([("0000:18:00.0".to_string(), h100())]), versions_fail: false };
    let mut gpus = vec![
        pci_gpu("0000:18:00.0", "10de", "GH100 [H100 SXM5 80GB]"),
        pci_gpu("0000:00:02.0", "8086", "UHD"),
    ];
    let intel_before = gpus[1].clone();
    merge(&mut gpus, Ok(&stub));
    assert_eq!(gpus.len(), 2, "one GPU per bus id, not two");
    let g = &gpus[0];
    assert_eq!(g.model.as_deref(), Some("NVIDIA H100 80GB HBM3"));
    assert_eq!(g.uuid.as_deref(), Some("GPU-00000000-1111-2222-3333-444444444444"));
    assert_eq!(
        (g.memory_total_bytes, g.memory_used_bytes, g.memory_free_bytes),
        (Some(85_520_809_984), Some(1_048_576), Some(85_519_761_408))
    );
    assert_eq!((g.utilization_percent, g.memory_utilization_percent), (Some(37.0), Some(12.0)));
    assert_eq!(g.temperature_celsius, Some(41.0));
    assert_eq!((g.power_draw_watts, g.power_limit_watts), (Some(71.5), Some(700.0)));
    assert_eq!((g.core_clock_mhz, g.memory_clock_max_mhz), (Some(1980), Some(2619)));
    assert_eq!((g.driver_version.as_deref(), g.cuda_version.as_deref()), (Some("550.54.15"), Some("12.4")));
    assert_eq!(g.compute_capability.as_deref(), Some("9.0"));
    assert_eq!((g.mig, g.ecc_enabled), (Some(MigMode { enabled: false, pending: true }), Some(true)));
    // sysfs said gen 4 now; NVML fills only what sysfs did not give.
    let link = g.pcie.as_ref().unwrap();
    assert_eq!((link.current_generation, link.current_speed_gts), (Some(4), Some(16.0)));
    assert_eq!((link.max_generation, link.max_speed_gts, link.max_width), (Some(5), Some(32.0), Some(16)));
    assert_eq!(g.notes, vec!["NVML serial: Insufficient Permissions".to_string()]);
    assert_eq!(gpus[1], intel_before, "non-NVIDIA entries are left alone");
}

#[test]
fn unavailable_nvml_leaves_pci_facts_and_says_why() {
    let mut gpus = vec![pci_gpu("0000:18:00.0", "10de", "GH100 [H100 SXM5 80GB]")];
    merge(&mut gpus, Err("libloading error: libnvidia-ml.so.1: cannot open shared object file"));
    let g = &gpus[0];
    assert_eq!(g.model.as_deref(), Some("GH100 [H100 SXM5 80GB]"));
    assert_eq!((g.memory_total_bytes, g.uuid.as_deref(), g.driver_version.as_deref()), (None, None, None));
    assert_eq!(g.notes.len(), 1);
    assert!(
        g.notes[0].starts_with("NVML unavailable: libloading error: libnvidia-ml.so.1"),
        "{}",
        g.notes[0]
    );
}

#[test]
fn device_unknown_to_nvml_and_failed_versions_are_noted() {
    let stub = Stub { devices: HashMap::new(), versions_fail: true };
    let mut gpus = vec![pci_gpu("0000:18:00.0", "10de", "GH100"), pci_gpu("0000:2a:00.0", "10de", "GH100")];
    merge(&mut gpus, Ok(&stub));
    for g in &gpus {
        assert_eq!(
            (g.uuid.as_deref(), g.driver_version.as_deref(), g.model.as_deref()),
            (None, None, Some("GH100"))
        );
        assert_eq!(
            g.notes,
            vec![
                "NVML driver version: Unknown Error".to_string(),
                "NVML CUDA version: Unknown Error".to_string(),
                format!("NVML has no device at {}: Not Found", g.pci_address),
            ]
        );
    }
}

#[test]
fn nvml_without_link_facts_does_not_invent_a_link() {
    let device = NvmlDevice { name: Some("NVIDIA A100".into()), ..NvmlDevice::default() };
    let stub = Stub { devices: HashMap::from([("0000:01:00.0".to_string(), device)]), versions_fail: false };
    let mut gpus =
        vec![Gpu { pci_address: "0000:01:00.0".into(), vendor_id: "10de".into(), ..Gpu::default() }];
    merge(&mut gpus, Ok(&stub));
    assert_eq!(gpus[0].pcie, None);
    assert_eq!(gpus[0].model.as_deref(), Some("NVIDIA A100"));
}

#[test]
fn real_nvml_initialises_once_and_says_why_it_failed() {
    use hypermesh_os::gpu::nvml::{init_time, shared};
    assert_eq!(init_time(), None, "nothing initialised NVML yet");
    let first = shared();
    let took = init_time().expect("init time recorded");
    match (first, shared()) {
        (Ok(a), Ok(b)) => {
            assert!(std::ptr::addr_eq(a, b), "one NVML per process");
            assert!(a.driver_version().is_ok_and(|v| !v.is_empty()));
        }
        (Err(a), Err(b)) => {
            assert!(std::ptr::eq(a, b), "the failure is remembered, not retried");
            // Without the driver (this VM), the loader's own message names the library.
            assert!(a.contains("libnvidia-ml") || a.contains("Driver"), "{a}");
        }
        _ => panic!("NVML initialised twice with different outcomes"),
    }
    assert_eq!(init_time(), Some(took), "the second call did not initialise again");
}
