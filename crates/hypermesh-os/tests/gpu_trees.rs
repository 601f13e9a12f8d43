//! GPU detection on small hand-made sysfs trees laid out as the kernel does: devices under
//! /sys/devices, links from /sys/bus/pci/devices and /sys/class/drm.

#![cfg(native_linux)]

use hypermesh_os::FsRoot;
use hypermesh_os::gpu::detect;
use hypermesh_os::model::{Gpu, GpuKind};
use std::os::unix::fs::symlink;
use std::path::Path;

/// A PCI function to place in a tree.
struct Function<'a> {
    /// Path below /sys/devices (`pci0000:00/0000:00:02.0`).
    path: &'a str,
    class: &'a str,
    id: &'a str,
    subsys: Option<&'a str>,
    driver: Option<&'a str>,
    /// Attribute files relative to the device directory.
    files: &'a [(&'a str, &'a str)],
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn add(root: &Path, f: &Function) {
    let dev = root.join("sys/devices").join(f.path);
    let addr = f.path.rsplit('/').next().unwrap();
    let mut uevent = String::new();
    if let Some(d) = f.driver {
        uevent += &format!("DRIVER={d}\n");
    }
    uevent += &format!("PCI_CLASS={}\nPCI_ID={}\n", f.class, f.id);
    if let Some(s) = f.subsys {
        uevent += &format!("PCI_SUBSYS_ID={s}\n");
    }
    uevent += &format!("PCI_SLOT_NAME={addr}\nMODALIAS=pci:v0\n");
    write(&dev.join("uevent"), &uevent);
    for (name, text) in f.files {
        write(&dev.join(name), text);
    }
    let bus = root.join("sys/bus/pci/devices");
    std::fs::create_dir_all(&bus).unwrap();
    symlink(format!("../../../devices/{}", f.path), bus.join(addr)).unwrap();
}

/// Adds DRM node `node` owned by the device at `owner` (below /sys/devices).
fn add_drm(root: &Path, owner: &str, node: &str) {
    let dir = root.join("sys/devices").join(owner).join("drm").join(node);
    std::fs::create_dir_all(&dir).unwrap();
    symlink("../..", dir.join("device")).unwrap();
    let class = root.join("sys/class/drm");
    std::fs::create_dir_all(&class).unwrap();
    symlink(format!("../../devices/{owner}/drm/{node}"), class.join(node)).unwrap();
}

fn run(dir: &Path) -> (Vec<Gpu>, Vec<hypermesh_os::Error>) {
    let root = FsRoot::new(dir).unwrap();
    let mut problems = Vec::new();
    let gpus = detect(&root, &mut problems).unwrap();
    (gpus, problems)
}

fn find<'a>(gpus: &'a [Gpu], addr: &str) -> &'a Gpu {
    gpus.iter().find(|g| g.pci_address == addr).unwrap_or_else(|| panic!("{addr} missing: {gpus:#?}"))
}

#[test]
fn nvidia_data_centre_card() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    add(
        d,
        &Function {
            path: "pci0000:15/0000:15:01.0/0000:16:00.0/0000:17:00.0/0000:18:00.0",
            class: "30200",
            id: "10DE:2330",
            subsys: Some("10DE:16C1"),
            driver: Some("nvidia"),
            files: &[
                ("numa_node", "0\n"),
                ("current_link_speed", "32.0 GT/s PCIe\n"),
                ("current_link_width", "16\n"),
                ("max_link_speed", "32.0 GT/s PCIe\n"),
                ("max_link_width", "16\n"),
            ],
        },
    );
    // A bridge on the way must not count.
    add(
        d,
        &Function {
            path: "pci0000:15/0000:15:01.0",
            class: "60400",
            id: "8086:352A",
            subsys: None,
            driver: Some("pcieport"),
            files: &[],
        },
    );
    let (gpus, problems) = run(d);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(gpus.len(), 1, "{gpus:#?}");
    let g = &gpus[0];
    assert_eq!(g.pci_address, "0000:18:00.0");
    assert_eq!(g.class_code, "030200");
    assert_eq!(g.kind, Some(GpuKind::Discrete));
    assert_eq!(g.vendor.as_deref(), Some("NVIDIA Corporation"));
    assert_eq!(g.model.as_deref(), Some("GH100 [H100 SXM5 80GB]"));
    assert_eq!(g.driver.as_deref(), Some("nvidia"));
    assert_eq!(g.numa_node, Some(0));
    let link = g.pcie.as_ref().unwrap();
    assert_eq!(
        (link.current_generation, link.current_width, link.max_generation),
        (Some(5), Some(16), Some(5))
    );
    assert_eq!((g.boot_vga, g.drm_card.as_deref()), (None, None), "3D controllers have no boot_vga");
    // Under an alternate root NVML is not asked, and the entry says so instead of inventing values.
    assert_eq!((g.memory_total_bytes, g.uuid.as_deref()), (None, None));
    assert!(
        g.notes.iter().any(|n| n.starts_with("NVML unavailable: not queried under an alternate root")),
        "{:?}",
        g.notes
    );
}

#[test]
fn integrated_intel_next_to_discrete_intel() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let igpu = "pci0000:00/0000:00:02.0";
    add(
        d,
        &Function {
            path: igpu,
            class: "30000",
            id: "8086:9A49",
            subsys: Some("1028:0A1F"),
            driver: Some("i915"),
            files: &[("boot_vga", "1\n"), ("numa_node", "-1\n")],
        },
    );
    add_drm(d, igpu, "card0");
    add_drm(d, igpu, "renderD128");
    write(&d.join(format!("sys/devices/{igpu}/drm/card0/gt_act_freq_mhz")), "1300\n");
    write(&d.join(format!("sys/devices/{igpu}/drm/card0/gt_RP0_freq_mhz")), "1350\n");
    let dgpu = "pci0000:00/0000:00:01.0/0000:01:00.0/0000:02:01.0/0000:03:00.0";
    add(
        d,
        &Function {
            path: dgpu,
            class: "30000",
            id: "8086:56A0",
            subsys: Some("8086:1020"),
            driver: Some("xe"),
            files: &[
                ("boot_vga", "0\n"),
                ("tile0/physical_vram_size_bytes", "17179869184\n"),
                ("tile0/gt0/freq0/act_freq", "2000\n"),
                ("tile0/gt0/freq0/rp0_freq", "2400\n"),
                ("hwmon/hwmon4/temp1_input", "45000\n"),
                ("hwmon/hwmon4/power1_input", "35500000\n"),
                ("hwmon/hwmon4/power1_max", "190000000\n"),
            ],
        },
    );
    add_drm(d, dgpu, "card1");
    add_drm(d, dgpu, "renderD129");
    let (gpus, problems) = run(d);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(gpus.len(), 2);

    let i = find(&gpus, "0000:00:02.0");
    assert_eq!(i.kind, Some(GpuKind::Integrated));
    assert_eq!((i.drm_card.as_deref(), i.drm_render.as_deref()), (Some("card0"), Some("renderD128")));
    assert_eq!((i.core_clock_mhz, i.core_clock_max_mhz), (Some(1300), Some(1350)));
    assert_eq!((i.boot_vga, i.numa_node, i.memory_total_bytes), (Some(true), None, None));
    assert_eq!(i.model.as_deref(), Some("TigerLake-LP GT2 [Iris Xe Graphics]"));

    let x = find(&gpus, "0000:03:00.0");
    assert_eq!(x.kind, Some(GpuKind::Discrete));
    assert_eq!((x.drm_card.as_deref(), x.drm_render.as_deref()), (Some("card1"), Some("renderD129")));
    assert_eq!(x.memory_total_bytes, Some(16 << 30));
    assert_eq!((x.core_clock_mhz, x.core_clock_max_mhz), (Some(2000), Some(2400)));
    assert_eq!(
        (x.temperature_celsius, x.power_draw_watts, x.power_limit_watts),
        (Some(45.0), Some(35.5), Some(190.0))
    );
    assert_eq!(x.boot_vga, Some(false));
    assert!(x.notes.is_empty(), "{:?}", x.notes);
}

#[test]
fn virtio_gpu_vm() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let gpu = "pci0000:00/0000:00:01.0";
    add(
        d,
        &Function {
            path: gpu,
            class: "38000",
            id: "1AF4:1050",
            subsys: Some("1AF4:1100"),
            driver: Some("virtio-pci"),
            files: &[],
        },
    );
    // virtio-gpu's DRM nodes hang off the virtio device, one level below the PCI function.
    add_drm(d, &format!("{gpu}/virtio0"), "card0");
    add_drm(d, &format!("{gpu}/virtio0"), "renderD128");
    add(
        d,
        &Function {
            path: "pci0000:00/0000:00:02.0",
            class: "20000",
            id: "1AF4:1041",
            subsys: None,
            driver: Some("virtio-pci"),
            files: &[],
        },
    );
    // An EFI framebuffer DRM device that is not PCI: ignored, not an error.
    add_drm(d, "platform/simple-framebuffer.0", "card1");
    write(&d.join("sys/devices/platform/simple-framebuffer.0/uevent"), "DRIVER=simple-framebuffer\n");
    let (gpus, problems) = run(d);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(gpus.len(), 1, "{gpus:#?}");
    let g = &gpus[0];
    assert_eq!((g.pci_address.as_str(), g.class_code.as_str()), ("0000:00:01.0", "038000"));
    assert_eq!(g.kind, Some(GpuKind::Virtual));
    assert_eq!(g.vendor.as_deref(), Some("Red Hat, Inc."));
    assert_eq!(g.model.as_deref(), Some("Virtio 1.0 GPU"));
    assert_eq!((g.drm_card.as_deref(), g.drm_render.as_deref()), (Some("card0"), Some("renderD128")));
    assert_eq!(g.pcie, None);
}

#[test]
fn machine_without_gpu() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // No /sys at all, then PCI devices of other classes only.
    assert_eq!(run(d).0, vec![]);
    add(
        d,
        &Function {
            path: "pci0000:00/0000:00:00.0",
            class: "60000",
            id: "8086:1237",
            subsys: None,
            driver: None,
            files: &[],
        },
    );
    add(
        d,
        &Function {
            path: "pci0000:00/0000:00:03.0",
            class: "10802",
            id: "144D:A80A",
            subsys: None,
            driver: Some("nvme"),
            files: &[],
        },
    );
    let (gpus, problems) = run(d);
    assert!(gpus.is_empty() && problems.is_empty(), "{gpus:?} {problems:?}");
}

#[test]
fn broken_entries_are_problems_not_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    add(
        d,
        &Function {
            path: "pci0000:00/0000:00:02.0",
            class: "30000",
            id: "1234:1111",
            subsys: None,
            driver: None,
            files: &[],
        },
    );
    // Truncated uevent, and a device whose uevent is missing entirely.
    write(&d.join("sys/devices/pci0000:00/0000:00:03.0/uevent"), "DRIVER=amdgpu\nPCI_CLA");
    symlink("../../../devices/pci0000:00/0000:00:03.0", d.join("sys/bus/pci/devices/0000:00:03.0")).unwrap();
    symlink("../../../devices/pci0000:00/0000:00:04.0", d.join("sys/bus/pci/devices/0000:00:04.0")).unwrap();
    // amdgpu card whose memory files are garbage.
    add(
        d,
        &Function {
            path: "pci0000:00/0000:00:05.0",
            class: "30000",
            id: "1002:73BF",
            subsys: None,
            driver: Some("amdgpu"),
            files: &[("mem_info_vram_total", "lots\n"), ("gpu_busy_percent", "")],
        },
    );
    let (gpus, problems) = run(d);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems.iter().any(|p| p.to_string().contains("0000:00:03.0/uevent")));
    assert!(problems.iter().any(|p| p.is_not_found()));
    assert_eq!(gpus.len(), 2);
    let bochs = find(&gpus, "0000:00:02.0");
    assert_eq!(bochs.kind, Some(GpuKind::Virtual));
    assert_eq!(bochs.driver, None);
    assert!(bochs.notes.iter().any(|n| n.contains("no kernel driver")));
    let amd = find(&gpus, "0000:00:05.0");
    assert_eq!((amd.memory_total_bytes, amd.utilization_percent, amd.kind), (None, None, None));
    assert_eq!(amd.notes.len(), 3, "{:?}", amd.notes);
    assert!(amd.notes[0].starts_with("amdgpu mem_info_vram_total: expected a number"), "{:?}", amd.notes);
}

#[test]
fn function_without_uevent_is_found_from_its_id_files() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let dev = d.join("sys/devices/pci0000:00/0000:00:01.0/0000:41:00.0");
    for (name, text) in [
        ("class", "0x030200\n"),
        ("vendor", "0x10de\n"),
        ("device", "0x2330\n"),
        ("subsystem_vendor", "0x10de\n"),
        ("subsystem_device", "0x16c1\n"),
    ] {
        write(&dev.join(name), text);
    }
    std::fs::create_dir_all(d.join("sys/bus/pci/drivers/nvidia")).unwrap();
    symlink("../../../../bus/pci/drivers/nvidia", dev.join("driver")).unwrap();
    let bus = d.join("sys/bus/pci/devices");
    std::fs::create_dir_all(&bus).unwrap();
    symlink("../../../devices/pci0000:00/0000:00:01.0/0000:41:00.0", bus.join("0000:41:00.0")).unwrap();
    let (gpus, problems) = run(d);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(gpus.len(), 1, "{gpus:?}");
    let g = find(&gpus, "0000:41:00.0");
    assert_eq!(
        (g.vendor_id.as_str(), g.device_id.as_str(), g.class_code.as_str()),
        ("10de", "2330", "030200")
    );
    assert_eq!(g.subsystem_device_id.as_deref(), Some("16c1"));
    assert_eq!(g.driver.as_deref(), Some("nvidia"));
    assert_eq!(g.kind, Some(GpuKind::Discrete));
}
