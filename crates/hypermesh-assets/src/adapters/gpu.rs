//! GPU assets: one per GPU, whole devices, identified by UUID or PCI address.

use crate::adapter::{AssetAdapter, HostView, section_missing};
use crate::asset::{Asset, Health, HealthState};
use crate::kind::AssetKind;
use hypermesh_os::Section;
use hypermesh_os::model::Gpu;

/// Offers every GPU the profile lists as one whole device.
#[derive(Debug, Clone, Copy, Default)]
pub struct GpuAdapter;

impl AssetAdapter for GpuAdapter {
    fn kind(&self) -> AssetKind {
        AssetKind::Gpu
    }

    fn assets(&self, host: &HostView<'_>, _problems: &mut Vec<String>) -> Result<Vec<Asset>, String> {
        let profile = host.profile;
        if profile.gpus.is_empty() && profile.errors.iter().any(|e| e.section == Section::Gpus) {
            return Err(section_missing(profile, Section::Gpus));
        }
        Ok(profile
            .gpus
            .iter()
            .map(|gpu| Asset {
                id: gpu_id(gpu),
                kind: AssetKind::Gpu,
                description: describe(gpu),
                numa_node: None,
                cpus: Vec::new(),
                solid_state: None,
                capacity: 1,
                allocatable: 1,
                utilisation: gpu.utilization_percent.map(|p| (p / 100.0).clamp(0.0, 1.0)),
                health: health(gpu, host),
                sharing: host.config.sharing,
                hardware: Some(&gpu.pci_address)
                    .filter(|a| !a.is_empty())
                    .map(|a| vec![format!("pci-{a}")])
                    .unwrap_or_default(),
            })
            .collect())
    }
}

/// `gpu:UUID` when the driver gives one, else `gpu:pci-ADDRESS`.
fn gpu_id(gpu: &Gpu) -> String {
    match &gpu.uuid {
        Some(uuid) if !uuid.is_empty() => format!("gpu:{uuid}"),
        _ => format!("gpu:pci-{}", gpu.pci_address),
    }
}

/// `VENDOR MODEL, 8.0 GiB, PCI ADDRESS`.
fn describe(gpu: &Gpu) -> String {
    let mut parts: Vec<String> = Vec::new();
    let name: Vec<&str> = [gpu.vendor.as_deref(), gpu.model.as_deref()].into_iter().flatten().collect();
    parts.push(if name.is_empty() { "GPU".into() } else { name.join(" ") });
    if let Some(total) = gpu.memory_total_bytes {
        parts.push(AssetKind::Memory.format_amount(total));
    }
    parts.push(gpu.pci_address.clone());
    parts.join(", ")
}

fn health(gpu: &Gpu, host: &HostView<'_>) -> Health {
    let mut health = Health::default();
    if let Some(t) = gpu.temperature_celsius {
        if t >= host.config.gpu_hot_celsius {
            health.note(HealthState::Critical, format!("temperature {t:.0} °C"));
        } else if t >= host.config.gpu_warm_celsius {
            health.note(HealthState::Degraded, format!("temperature {t:.0} °C"));
        }
    }
    health
}
