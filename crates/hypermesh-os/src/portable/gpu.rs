//! GPUs from sysinfo (Linux: DRM + NVML/Vulkan, Windows: DXGI, macOS: IOKit; none on FreeBSD).

use super::{from_sysinfo, not_reported};
use crate::error::Result;
use crate::model::Gpu;
use crate::profile::Problems;
use sysinfo::Gpus;

/// Every GPU sysinfo finds, with vendor, model, memory and busy percentage where it has them.
/// On systems sysinfo has no GPU support for, the section is `Unsupported`.
pub(super) fn detect(problems: &mut Problems) -> Result<Vec<Gpu>> {
    let gpus = Gpus::new_with_refreshed_list().map_err(|e| from_sysinfo("gpus", e))?;
    let mut out: Vec<Gpu> = gpus.iter().map(gpu).collect();
    if !out.is_empty() {
        not_reported("gpu kind, driver, temperature_celsius, uuid", problems);
    }
    out.sort_by(|a, b| a.pci_address.cmp(&b.pci_address));
    Ok(out)
}

fn gpu(g: &sysinfo::Gpu) -> Gpu {
    Gpu {
        // Apple silicon GPUs have no PCI address; sysinfo then gives `ffffffff:ff:ff.255`.
        pci_address: g.pci().to_string(),
        vendor: g.vendor().map(str::to_string),
        model: g.model().map(str::to_string),
        kind: None,
        driver: None,
        memory_total_bytes: g.total_memory(),
        memory_used_bytes: g.used_memory(),
        utilization_percent: g.usage().map(f64::from),
        temperature_celsius: None,
        uuid: None,
        ..Default::default()
    }
}
