//! GPU detection: every display-class PCI function (VGA, 3D, display controllers) with its DRM
//! nodes, names from pci.ids, vendor detail from sysfs (amdgpu, i915/xe, hwmon) and, for NVIDIA
//! on the live host, NVML.
//!
//! Without NVML this costs one `uevent` read per PCI function plus a few attribute reads per GPU.
//! NVML is attempted only when an NVIDIA device is present and the root is the live host, so
//! headless hosts and captures never load the driver library.

mod amd;
mod attrs;
mod hwmon;
mod intel;
mod kind;
pub mod names;
pub mod nvml;
pub mod pci;

use crate::error::Result;
use crate::model::Gpu;
use crate::profile::Problems;
use crate::root::FsRoot;
use names::PciNames;
use pci::DisplayFunction;

/// Why NVML is not asked about GPUs read under an alternate root: it would describe this
/// machine's GPUs, not the root's.
const NVML_NOT_UNDER_ROOT: &str = "not queried under an alternate root (NVML sees only this machine)";

/// Detects the GPUs under `root`. An empty list, not an error, when there are none.
pub fn detect(root: &FsRoot, problems: &mut Problems) -> Result<Vec<Gpu>> {
    let mut gpus = detect_sysfs(root, problems)?;
    if gpus.iter().any(|g| g.vendor_id == nvml::NVIDIA_VENDOR_ID) {
        let api = if root.is_host() { nvml::shared() } else { Err(NVML_NOT_UNDER_ROOT) };
        nvml::merge(&mut gpus, api);
    }
    Ok(gpus)
}

/// Detection from sysfs alone: [`detect`] without NVML and its notes (for measuring the sysfs part).
pub fn detect_sysfs(root: &FsRoot, problems: &mut Problems) -> Result<Vec<Gpu>> {
    let functions = pci::display_functions(root, problems)?;
    if functions.is_empty() {
        return Ok(Vec::new());
    }
    let names = PciNames::new(root);
    Ok(functions.into_iter().map(|f| describe(root, &names, f)).collect())
}

/// Builds the entry of one display function: identity, names, PCI attributes, vendor detail.
fn describe(root: &FsRoot, names: &PciNames, f: DisplayFunction) -> Gpu {
    let ids = &f.ids;
    let mut gpu = Gpu {
        vendor: names.vendor(ids.vendor),
        model: names.device(ids.vendor, ids.device),
        kind: kind::classify(ids, &f.address),
        driver: f.driver,
        vendor_id: format!("{:04x}", ids.vendor),
        device_id: format!("{:04x}", ids.device),
        subsystem_vendor_id: ids.subsystem.map(|s| format!("{:04x}", s.0)),
        subsystem_device_id: ids.subsystem.map(|s| format!("{:04x}", s.1)),
        class_code: format!("{:06x}", ids.class),
        numa_node: attrs::numa_node(root, &f.dir),
        pcie: attrs::pcie_link(root, &f.dir),
        boot_vga: attrs::boot_vga(root, &f.dir, ids.class),
        drm_card: f.drm_card,
        drm_render: f.drm_render,
        pci_address: f.address,
        ..Gpu::default()
    };
    match gpu.driver.as_deref() {
        Some("amdgpu") => amd::fill(root, &f.dir, &mut gpu),
        Some("i915" | "xe") => intel::fill(root, &f.dir, &mut gpu),
        Some(_) => hwmon::fill(root, &f.dir, &mut gpu),
        None => gpu.notes.push("no kernel driver bound: only PCI identity known".into()),
    }
    gpu
}
