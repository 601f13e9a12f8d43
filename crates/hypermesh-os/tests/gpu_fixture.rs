//! GPU detection against the procfs fixture: an amdgpu card0 and an i915 card1, both with their
//! PCI device only behind /sys/class/drm (not listed in /sys/bus/pci/devices).

#![cfg(native_linux)]

use hypermesh_os::FsRoot;
use hypermesh_os::model::{GpuKind, PcieLink};
use hypermesh_testkit::unpack_fixture;

#[test]
fn procfs_amdgpu_and_i915() {
    let Some((_tmp, dir)) = unpack_fixture("procfs") else { return };
    let root = FsRoot::new(&dir).unwrap();
    let mut problems = Vec::new();
    let gpus = hypermesh_os::gpu::detect(&root, &mut problems).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(gpus.len(), 2, "{gpus:#?}");

    let amd = gpus.iter().find(|g| g.pci_address == "0000:09:00.0").expect("amdgpu card0");
    assert_eq!(amd.driver.as_deref(), Some("amdgpu"));
    assert_eq!(amd.drm_card.as_deref(), Some("card0"));
    assert_eq!((amd.vendor_id.as_str(), amd.device_id.as_str()), ("1002", "687f"));
    assert_eq!(amd.subsystem_vendor_id.as_deref(), Some("1043"));
    assert_eq!(amd.subsystem_device_id.as_deref(), Some("04c4"));
    assert_eq!(amd.class_code, "030000");
    assert_eq!(amd.vendor.as_deref(), Some("Advanced Micro Devices, Inc. [AMD/ATI]"));
    assert_eq!(amd.model.as_deref(), Some("Vega 10 XL/XT [Radeon RX Vega 56/64]"));
    assert_eq!(amd.kind, Some(GpuKind::Discrete));
    assert_eq!(amd.memory_total_bytes, Some(8573157376));
    assert_eq!(amd.memory_used_bytes, Some(1490378752));
    assert_eq!(amd.memory_visible_total_bytes, Some(8573157376));
    assert_eq!(amd.memory_visible_used_bytes, Some(1490378752));
    assert_eq!(amd.utilization_percent, Some(4.0));
    assert_eq!((amd.core_clock_mhz, amd.core_clock_max_mhz), (Some(852), Some(1630)));
    assert_eq!((amd.memory_clock_mhz, amd.memory_clock_max_mhz), (Some(167), Some(945)));
    assert_eq!(amd.vbios_version.as_deref(), Some("115-D050PIL-100"));
    assert_eq!(amd.boot_vga, Some(true));
    assert_eq!(amd.numa_node, None, "numa_node -1 means no NUMA");
    assert_eq!(
        amd.pcie,
        Some(PcieLink {
            current_speed_gts: Some(8.0),
            current_width: Some(16),
            max_speed_gts: Some(8.0),
            max_width: Some(16),
            current_generation: Some(3),
            max_generation: Some(3),
        })
    );
    // No hwmon directory in the fixture, and serial_number/product_name are empty.
    assert_eq!((amd.temperature_celsius, amd.power_draw_watts, amd.serial.as_deref()), (None, None, None));
    assert_eq!(amd.uuid, None);
    assert!(amd.notes.is_empty(), "{:?}", amd.notes);

    let intel = gpus.iter().find(|g| g.pci_address == "0000:00:02.0").expect("i915 card1");
    assert_eq!(intel.driver.as_deref(), Some("i915"));
    assert_eq!(intel.drm_card.as_deref(), Some("card1"));
    assert_eq!((intel.vendor_id.as_str(), intel.device_id.as_str()), ("8086", "5917"));
    assert_eq!(intel.subsystem_vendor_id.as_deref(), Some("17aa"));
    assert_eq!(intel.vendor.as_deref(), Some("Intel Corporation"));
    assert_eq!(intel.model.as_deref(), Some("UHD Graphics 620"));
    assert_eq!(intel.kind, Some(GpuKind::Integrated));
    // card1's device directory holds only uevent, driver and enable: nothing else is known.
    assert_eq!(
        (intel.memory_total_bytes, intel.utilization_percent, intel.pcie.as_ref()),
        (None, None, None)
    );
    assert_eq!((intel.core_clock_mhz, intel.boot_vga), (None, None));
}
