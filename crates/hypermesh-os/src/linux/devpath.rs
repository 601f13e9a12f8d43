//! Facts read off sysfs device paths (the targets of `/sys/block/X`, `/sys/class/net/X`, ...),
//! which spell out the bus chain of a device without any further read.

/// True for a PCI address `DOMAIN:BUS:DEVICE.FUNCTION` (`0000:03:00.0`; VMD domains have 5 digits).
pub fn is_pci_address(s: &str) -> bool {
    let mut parts = s.split(':');
    let (Some(domain), Some(bus), Some(devfn), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let hex = |p: &str, len: usize| p.len() == len && p.bytes().all(|b| b.is_ascii_hexdigit());
    let Some((dev, func)) = devfn.split_once('.') else {
        return false;
    };
    domain.len() >= 4 && hex(domain, domain.len()) && hex(bus, 2) && hex(dev, 2) && hex(func, 1)
}

/// PCI address of the device that owns a class device, from its sysfs path: the component just
/// before `/<class>/<name>`, skipping `virtioN` (virtio devices sit on a PCI function). `None`
/// when the device hangs off another bus (USB, platform, virtual).
pub fn pci_address(path: &str, class: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let at = parts.iter().rposition(|c| *c == class)?;
    let owner = parts[..at].iter().rev().find(|c| !is_virtio_device(c))?;
    is_pci_address(owner).then(|| owner.to_string())
}

/// True when the path lies under `/sys/devices/virtual` (software devices with no hardware).
pub fn is_virtual(path: &str) -> bool {
    path.contains("/devices/virtual/")
}

fn is_virtio_device(c: &str) -> bool {
    c.strip_prefix("virtio").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_pci_owner_through_virtio_but_not_usb() {
        assert_eq!(
            pci_address("../../devices/pci0000:00/0000:00:03.0/virtio2/net/eth0", "net").as_deref(),
            Some("0000:00:03.0")
        );
        assert_eq!(
            pci_address("../../devices/pci0000:00/0000:00:03.0/0000:03:00.0/net/eth0/", "net").as_deref(),
            Some("0000:03:00.0")
        );
        assert_eq!(
            pci_address("../../devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/net/eth1", "net"),
            None
        );
        assert_eq!(pci_address("../../devices/virtual/net/lo", "net"), None);
        assert_eq!(pci_address("garbage", "net"), None);
        assert!(is_pci_address("10000:e1:00.0"));
        assert!(!is_pci_address("0000:00:03"));
        assert!(!is_pci_address("pci0000:00"));
    }
}
