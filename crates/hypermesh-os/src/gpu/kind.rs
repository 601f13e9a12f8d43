//! Whether a GPU is discrete, integrated or virtual, told from its PCI identity.

use super::pci::PciIds;
use crate::model::GpuKind;

/// PCI vendors whose display functions are emulated by a hypervisor: Red Hat virtio (virtio-gpu),
/// Red Hat QEMU (QXL), QEMU stdvga (bochs), VMware SVGA, Microsoft Hyper-V, VirtualBox.
const VIRTUAL_VENDORS: [u16; 6] = [0x1af4, 0x1b36, 0x1234, 0x15ad, 0x1414, 0x80ee];

/// QEMU's emulated Cirrus CLGD 5446 (the real chip has been out of production since the 1990s).
const QEMU_CIRRUS: (u16, u16) = (0x1013, 0x00b8);

/// Separate-chip vendors: NVIDIA, ASPEED and Matrox (server BMC graphics).
const DISCRETE_VENDORS: [u16; 3] = [0x10de, 0x1a03, 0x102b];

const INTEL: u16 = 0x8086;

/// Kind of a GPU from its ids and address. Intel graphics on the root bus (00) is the
/// processor's own; Intel cards sit behind a bridge. AMD is told later from its VRAM size
/// (see `amd::kind`), so `None` here, like any vendor not known.
pub fn classify(ids: &PciIds, address: &str) -> Option<GpuKind> {
    if VIRTUAL_VENDORS.contains(&ids.vendor) || (ids.vendor, ids.device) == QEMU_CIRRUS {
        return Some(GpuKind::Virtual);
    }
    if DISCRETE_VENDORS.contains(&ids.vendor) {
        return Some(GpuKind::Discrete);
    }
    if ids.vendor == INTEL {
        let bus = address.split(':').nth(1)?;
        return Some(if bus == "00" { GpuKind::Integrated } else { GpuKind::Discrete });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(vendor: u16, device: u16) -> PciIds {
        PciIds { class: 0x030000, vendor, device, subsystem: None }
    }

    #[test]
    fn kinds() {
        assert_eq!(classify(&ids(0x1af4, 0x1050), "0000:00:01.0"), Some(GpuKind::Virtual));
        assert_eq!(classify(&ids(0x1013, 0x00b8), "0000:00:02.0"), Some(GpuKind::Virtual));
        assert_eq!(classify(&ids(0x10de, 0x2330), "0000:18:00.0"), Some(GpuKind::Discrete));
        assert_eq!(classify(&ids(0x8086, 0x5917), "0000:00:02.0"), Some(GpuKind::Integrated));
        assert_eq!(classify(&ids(0x8086, 0x56a0), "0000:03:00.0"), Some(GpuKind::Discrete));
        assert_eq!(classify(&ids(0x1002, 0x687f), "0000:09:00.0"), None);
        assert_eq!(classify(&ids(0x5143, 0x0001), "0000:00:00.0"), None);
    }
}
