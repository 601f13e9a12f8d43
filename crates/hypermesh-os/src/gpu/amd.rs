//! AMD detail from amdgpu's sysfs files in the PCI device directory: VRAM, busy percentage,
//! clock levels, VBIOS, plus hwmon sensors.

use crate::model::{Gpu, GpuKind};
use crate::root::FsRoot;

/// Fills what amdgpu publishes for the device at `dir`. Unreadable memory or busy files leave
/// the value `None` and add a note saying which file and why.
pub fn fill(root: &FsRoot, dir: &str, gpu: &mut Gpu) {
    let mut number = |name: &str| -> Option<u64> {
        let path = format!("{dir}/{name}");
        match root.read_parsed::<u64>(&path) {
            Ok(v) => Some(v),
            Err(e) => {
                gpu.notes.push(format!("amdgpu {name}: {}", e.message()));
                None
            }
        }
    };
    let total = number("mem_info_vram_total");
    let used = number("mem_info_vram_used");
    let busy = number("gpu_busy_percent");
    gpu.memory_total_bytes = total;
    gpu.kind = kind(total);
    gpu.memory_used_bytes = used;
    gpu.utilization_percent = busy.map(|b| b as f64);
    gpu.memory_visible_total_bytes = root.read_opt_parsed(&format!("{dir}/mem_info_vis_vram_total"));
    gpu.memory_visible_used_bytes = root.read_opt_parsed(&format!("{dir}/mem_info_vis_vram_used"));
    gpu.vbios_version = root.read_opt(&format!("{dir}/vbios_version"));
    gpu.serial = root.read_opt(&format!("{dir}/serial_number"));
    if let Some(levels) = root.read_opt(&format!("{dir}/pp_dpm_sclk")) {
        (gpu.core_clock_mhz, gpu.core_clock_max_mhz) = clock_levels(&levels);
    }
    if let Some(levels) = root.read_opt(&format!("{dir}/pp_dpm_mclk")) {
        (gpu.memory_clock_mhz, gpu.memory_clock_max_mhz) = clock_levels(&levels);
    }
    super::hwmon::fill(root, dir, gpu);
}

/// VRAM below which an amdgpu device is taken for an APU's integrated GPU: APUs get a BIOS
/// carve-out (usually 512 MiB), amdgpu-era cards ship with 2 GiB or more. amdgpu publishes no
/// APU flag in sysfs, so this is a size rule.
const APU_VRAM_LIMIT: u64 = 2 << 30;

/// Kind of an amdgpu device from its VRAM size; `None` when the size is unknown.
pub fn kind(vram_total: Option<u64>) -> Option<GpuKind> {
    vram_total.map(|v| if v < APU_VRAM_LIMIT { GpuKind::Integrated } else { GpuKind::Discrete })
}

/// Parses a `pp_dpm_*` table (`0: 852Mhz *` per level): the current level (marked `*`) and the
/// highest level, in MHz.
pub fn clock_levels(text: &str) -> (Option<u32>, Option<u32>) {
    let mut current = None;
    let mut max = None;
    for line in text.lines() {
        let Some((_, rest)) = line.split_once(':') else { continue };
        let rest = rest.trim();
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let Ok(mhz) = rest[..digits].parse::<u32>() else { continue };
        if !rest[digits..].trim_start().to_ascii_lowercase().starts_with("mhz") {
            continue;
        }
        if rest.ends_with('*') {
            current = Some(mhz);
        }
        max = max.max(Some(mhz));
    }
    (current, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apu_or_card() {
        assert_eq!(kind(Some(512 << 20)), Some(GpuKind::Integrated));
        assert_eq!(kind(Some(8573157376)), Some(GpuKind::Discrete));
        assert_eq!(kind(None), None);
    }

    #[test]
    fn clock_tables() {
        let sclk = "0: 852Mhz *\n1: 991Mhz \n7: 1630Mhz \n";
        assert_eq!(clock_levels(sclk), (Some(852), Some(1630)));
        assert_eq!(clock_levels("0: 500Mhz\n1: 1000Mhz *\n"), (Some(1000), Some(1000)));
        assert_eq!(clock_levels("garbage\n1: fastMhz *\n2: 3 GT/s *"), (None, None));
        assert_eq!(clock_levels(""), (None, None));
    }
}
