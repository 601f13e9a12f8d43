//! Vendor-neutral PCI attributes of a device directory: NUMA node, PCIe link, boot VGA.

use crate::model::PcieLink;
use crate::root::FsRoot;

/// Class and subclass of VGA-compatible controllers.
const VGA_CLASS: u32 = 0x0300;

/// NUMA node of the device; `None` when the kernel says -1 (no NUMA) or the file is missing.
pub fn numa_node(root: &FsRoot, dir: &str) -> Option<u32> {
    root.read_opt_parsed::<i64>(&format!("{dir}/numa_node")).and_then(|n| u32::try_from(n).ok())
}

/// True when firmware booted on this VGA device; `None` for other functions, which have no
/// such file (only class 0x0300xx is read).
pub fn boot_vga(root: &FsRoot, dir: &str, class: u32) -> Option<bool> {
    if class >> 8 != VGA_CLASS {
        return None;
    }
    match root.read_opt(&format!("{dir}/boot_vga"))?.as_str() {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

/// PCIe link from `current_link_{speed,width}` and `max_link_{speed,width}`; `None` when the
/// device has no PCIe capability (emulated PCI, integrated graphics on the root bus).
pub fn pcie_link(root: &FsRoot, dir: &str) -> Option<PcieLink> {
    let speed = |name: &str| root.read_opt(&format!("{dir}/{name}")).map(|s| parse_speed(&s));
    let width = |name: &str| root.read_opt_parsed::<u32>(&format!("{dir}/{name}")).filter(|w| *w > 0);
    // The four files exist together or not at all: one miss spares the other reads.
    let max_speed_gts = speed("max_link_speed")?;
    let link = PcieLink {
        current_speed_gts: speed("current_link_speed").flatten(),
        current_width: width("current_link_width"),
        max_speed_gts,
        max_width: width("max_link_width"),
        current_generation: None,
        max_generation: None,
    };
    let link = PcieLink {
        current_generation: link.current_speed_gts.and_then(generation_of),
        max_generation: link.max_speed_gts.and_then(generation_of),
        ..link
    };
    (link != PcieLink::default()).then_some(link)
}

/// Parses `8.0 GT/s PCIe` (or `2.5 GT/s`) into GT/s; `None` for `Unknown` and garbage.
pub fn parse_speed(text: &str) -> Option<f64> {
    let mut words = text.split_whitespace();
    let value: f64 = words.next()?.parse().ok()?;
    (words.next() == Some("GT/s") && value.is_finite() && value > 0.0).then_some(value)
}

/// Per-lane rate of each PCIe generation, GT/s.
const GENERATIONS: [f64; 6] = [2.5, 5.0, 8.0, 16.0, 32.0, 64.0];

/// PCIe generation (1..=6) of a per-lane rate.
pub fn generation_of(gts: f64) -> Option<u32> {
    GENERATIONS.iter().position(|g| (g - gts).abs() < 0.01).map(|i| i as u32 + 1)
}

/// Per-lane rate of a PCIe generation (as NVML reports generations).
pub fn speed_of(generation: u32) -> Option<f64> {
    GENERATIONS.get((generation as usize).checked_sub(1)?).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_speeds() {
        assert_eq!(parse_speed("8.0 GT/s PCIe"), Some(8.0));
        assert_eq!(parse_speed("2.5 GT/s"), Some(2.5));
        assert_eq!(parse_speed("Unknown"), None);
        assert_eq!(parse_speed("8.0 MB/s"), None);
        assert_eq!(generation_of(16.0), Some(4));
        assert_eq!(generation_of(7.0), None);
        assert_eq!(speed_of(5), Some(32.0));
        assert_eq!(speed_of(0), None);
        assert_eq!(speed_of(9), None);
    }
}
