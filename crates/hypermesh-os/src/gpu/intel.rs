//! Intel detail: GT frequencies (i915 on the card node, xe per tile and GT) and local memory of
//! discrete cards (i915 `lmem_total_bytes`, xe `tileN/physical_vram_size_bytes`), plus hwmon.

use crate::model::{Gpu, GpuKind};
use crate::root::FsRoot;

/// Fills what i915 or xe publishes for the device at `dir` (DRM card `gpu.drm_card`).
pub fn fill(root: &FsRoot, dir: &str, gpu: &mut Gpu) {
    let mhz = |path: String| root.read_opt_parsed::<u32>(&path).filter(|f| *f > 0);
    match gpu.driver.as_deref() {
        Some("xe") => {
            let freq = format!("{dir}/tile0/gt0/freq0");
            gpu.core_clock_mhz = mhz(format!("{freq}/act_freq"));
            gpu.core_clock_max_mhz = mhz(format!("{freq}/rp0_freq"));
            if gpu.kind == Some(GpuKind::Discrete) {
                gpu.memory_total_bytes = xe_vram(root, dir);
            }
        }
        Some("i915") => {
            let Some(card) = gpu.drm_card.clone() else {
                gpu.notes.push("i915 frequencies: no DRM card node for this device".into());
                return;
            };
            let base = format!("/sys/class/drm/{card}");
            gpu.core_clock_mhz = mhz(format!("{base}/gt_act_freq_mhz"));
            gpu.core_clock_max_mhz = mhz(format!("{base}/gt_RP0_freq_mhz"));
            if gpu.kind == Some(GpuKind::Discrete) {
                gpu.memory_total_bytes = root.read_opt_parsed(&format!("{base}/lmem_total_bytes"));
            }
        }
        _ => return,
    }
    if gpu.kind == Some(GpuKind::Discrete) && gpu.memory_total_bytes.is_none() {
        gpu.notes.push("local memory size not published by the driver".into());
    }
    super::hwmon::fill(root, dir, gpu);
}

/// Sum of `tileN/physical_vram_size_bytes` over the device's tiles.
fn xe_vram(root: &FsRoot, dir: &str) -> Option<u64> {
    let tiles = root.read_dir(dir).ok()?;
    tiles
        .iter()
        .filter(|t| t.starts_with("tile"))
        .filter_map(|t| root.read_opt_parsed::<u64>(&format!("{dir}/{t}/physical_vram_size_bytes")))
        .reduce(|a, b| a + b)
}
