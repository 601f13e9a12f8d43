//! Enumeration of display-class PCI functions (class 0x03xx) from `/sys/bus/pci/devices`, plus
//! the DRM nodes (`/sys/class/drm/card*`, `renderD*`) that belong to them.
//!
//! Each function's `uevent` holds driver, class, vendor/device and subsystem ids in one small
//! file, so enumeration costs one read per PCI function. A DRM node whose PCI device is not
//! listed under `/sys/bus/pci/devices` (partial captures) is added from its own `device/uevent`.
//! DRM nodes of non-PCI devices (simpledrm, SoC GPUs) are not reported. A function without a
//! `uevent` (captured by another tool) is read from its `class`, `vendor` and `device` files.

use crate::error::{Error, Result};
use crate::profile::Problems;
use crate::root::FsRoot;

const PCI_DEVICES: &str = "/sys/bus/pci/devices";
const DRM_CLASS: &str = "/sys/class/drm";

/// PCI base class of display controllers.
const DISPLAY_BASE_CLASS: u32 = 0x03;

/// Identity of a PCI function as its `uevent` states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PciIds {
    /// 24-bit class code (`0x030200`).
    pub class: u32,
    /// Vendor id.
    pub vendor: u16,
    /// Device id.
    pub device: u16,
    /// Subsystem vendor and device ids, when the function has them.
    pub subsystem: Option<(u16, u16)>,
}

/// One display-class PCI function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayFunction {
    /// PCI address (`0000:01:00.0`).
    pub address: String,
    /// Kernel path of its sysfs directory, where attribute files are read.
    pub dir: String,
    /// Ids from `uevent`.
    pub ids: PciIds,
    /// Bound kernel driver.
    pub driver: Option<String>,
    /// DRM card node (`card0`).
    pub drm_card: Option<String>,
    /// DRM render node (`renderD128`).
    pub drm_render: Option<String>,
}

/// Lists every display-class PCI function, with its DRM nodes. A missing `/sys/bus/pci` or
/// `/sys/class/drm` means no such devices; unreadable entries are recorded in `problems`.
pub fn display_functions(root: &FsRoot, problems: &mut Problems) -> Result<Vec<DisplayFunction>> {
    let mut found = Vec::new();
    for name in list_optional(root, PCI_DEVICES)? {
        let dir = format!("{PCI_DEVICES}/{name}");
        match read_function(root, &dir) {
            Ok((address, ids, driver)) if ids.class >> 16 == DISPLAY_BASE_CLASS => {
                found.push(DisplayFunction { address, dir, ids, driver, drm_card: None, drm_render: None })
            }
            Ok(_) => {}
            Err(e) => problems.push(e),
        }
    }
    for node in list_optional(root, DRM_CLASS)? {
        let is_card = is_node(&node, "card");
        if !is_card && !is_node(&node, "renderD") {
            continue;
        }
        let index = match drm_owner(root, &node, &mut found) {
            Ok(Some(i)) => i,
            Ok(None) => continue,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let slot = if is_card { &mut found[index].drm_card } else { &mut found[index].drm_render };
        slot.get_or_insert(node);
    }
    Ok(found)
}

/// Index in `found` of the PCI function that owns DRM node `node`, adding the function when it is
/// a display device missing from the PCI listing. `None` for non-PCI or non-display owners.
fn drm_owner(root: &FsRoot, node: &str, found: &mut Vec<DisplayFunction>) -> Result<Option<usize>> {
    // On a live host the node is a link into /sys/devices; its last PCI-address component is
    // the owner (virtio-gpu sits one level below its PCI function: .../0000:00:01.0/virtio0/drm).
    let path = format!("{DRM_CLASS}/{node}");
    if let Ok(target) = root.read_link(&path) {
        let owner = target.split('/').rfind(|c| is_pci_address(c));
        if let Some(i) = owner.and_then(|a| found.iter().position(|f| f.address == a)) {
            return Ok(Some(i));
        }
    }
    let dir = format!("{path}/device");
    let (address, ids, driver) = match read_function(root, &dir) {
        Ok(f) => f,
        // A non-PCI owner (platform device) has a uevent without PCI keys, a virtual one none.
        Err(Error::Parse { .. }) => return Ok(None),
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    if let Some(i) = found.iter().position(|f| f.address == address) {
        return Ok(Some(i));
    }
    if ids.class >> 16 != DISPLAY_BASE_CLASS {
        return Ok(None);
    }
    found.push(DisplayFunction { address, dir, ids, driver, drm_card: None, drm_render: None });
    Ok(Some(found.len() - 1))
}

fn list_optional(root: &FsRoot, dir: &str) -> Result<Vec<String>> {
    match root.read_dir(dir) {
        Ok(names) => Ok(names),
        Err(e) if e.is_not_found() => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

fn is_node(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Reads `DIR/uevent` of a PCI function: its address, ids and driver. Without a `uevent`
/// (captures made by other tools), from its `class`, `vendor`, `device` and `subsystem_*`
/// attribute files, the directory's name and the `driver` link; when those are missing too,
/// the `uevent` error is returned.
fn read_function(root: &FsRoot, dir: &str) -> Result<(String, PciIds, Option<String>)> {
    let path = format!("{dir}/uevent");
    match root.read_string(&path) {
        Ok(text) => parse_uevent(&text).map_err(|m| Error::parse(&path, m)),
        Err(e) if e.is_not_found() => from_attributes(root, dir).ok_or(e),
        Err(e) => Err(e),
    }
}

/// The identity of a PCI function from its attribute files (`0x030000`, `0x10de`...).
fn from_attributes(root: &FsRoot, dir: &str) -> Option<(String, PciIds, Option<String>)> {
    let hex = |name: &str| {
        let text = root.read_opt(&format!("{dir}/{name}"))?;
        u32::from_str_radix(text.trim_start_matches("0x"), 16).ok()
    };
    let id = |name: &str| hex(name).and_then(|v| u16::try_from(v).ok());
    let class = hex("class").filter(|c| *c <= 0xff_ffff)?;
    let (vendor, device) = (id("vendor")?, id("device")?);
    let subsystem = id("subsystem_vendor").zip(id("subsystem_device"));
    let resolved = root.resolve(dir).ok()?;
    let address = resolved.rsplit('/').next().filter(|a| is_pci_address(a))?.to_ascii_lowercase();
    let driver = root.link_name(&format!("{dir}/driver"));
    Some((address, PciIds { class, vendor, device, subsystem }, driver))
}

/// Parses a PCI `uevent` (`DRIVER=`, `PCI_CLASS=`, `PCI_ID=`, `PCI_SUBSYS_ID=`, `PCI_SLOT_NAME=`).
pub fn parse_uevent(text: &str) -> Result<(String, PciIds, Option<String>), String> {
    let (mut driver, mut class, mut id, mut subsys, mut slot) = (None, None, None, None, None);
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else { continue };
        let value = value.trim();
        match key {
            "DRIVER" => driver = Some(value.to_string()),
            "PCI_CLASS" => class = Some(value),
            "PCI_ID" => id = Some(value),
            "PCI_SUBSYS_ID" => subsys = Some(value),
            "PCI_SLOT_NAME" => slot = Some(value),
            _ => {}
        }
    }
    let slot = slot.ok_or("no PCI_SLOT_NAME")?;
    if !is_pci_address(slot) {
        return Err(format!("PCI_SLOT_NAME {slot:?} is not a PCI address"));
    }
    let class = class.ok_or("no PCI_CLASS")?;
    let class = u32::from_str_radix(class, 16)
        .ok()
        .filter(|c| *c <= 0xff_ffff)
        .ok_or_else(|| format!("bad PCI_CLASS {class:?}"))?;
    let (vendor, device) = id_pair(id.ok_or("no PCI_ID")?)?;
    let subsystem = subsys.map(id_pair).transpose()?;
    Ok((slot.to_ascii_lowercase(), PciIds { class, vendor, device, subsystem }, driver))
}

fn id_pair(text: &str) -> Result<(u16, u16), String> {
    let parse = |s: &str| u16::from_str_radix(s, 16).ok();
    text.split_once(':')
        .and_then(|(a, b)| Some((parse(a)?, parse(b)?)))
        .ok_or_else(|| format!("bad PCI id pair {text:?}"))
}

/// True for `DOMAIN:BB:DD.F` (domain of four or more hex digits, as the kernel names devices).
pub fn is_pci_address(s: &str) -> bool {
    let hex = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit());
    let mut parts = s.split(':');
    let (Some(domain), Some(bus), Some(devfn), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Some((dev, func)) = devfn.split_once('.') else { return false };
    domain.len() >= 4 && hex(domain, domain.len()) && hex(bus, 2) && hex(dev, 2) && hex(func, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_uevent() {
        let text = "DRIVER=amdgpu\nPCI_CLASS=30000\nPCI_ID=1002:687F\nPCI_SUBSYS_ID=1043:04C4\n\
                    PCI_SLOT_NAME=0000:09:00.0\nMODALIAS=pci:v00001002d0000687F\n";
        let (addr, ids, driver) = parse_uevent(text).unwrap();
        assert_eq!(addr, "0000:09:00.0");
        assert_eq!(
            ids,
            PciIds { class: 0x030000, vendor: 0x1002, device: 0x687f, subsystem: Some((0x1043, 0x04c4)) }
        );
        assert_eq!(driver.as_deref(), Some("amdgpu"));
    }

    #[test]
    fn rejects_garbage_uevents() {
        assert!(parse_uevent("").is_err());
        assert!(parse_uevent("PCI_SLOT_NAME=virtio0\nPCI_CLASS=30000\nPCI_ID=1:2").is_err());
        assert!(parse_uevent("PCI_SLOT_NAME=0000:00:01.0\nPCI_CLASS=zz\nPCI_ID=1:2").is_err());
        assert!(parse_uevent("PCI_SLOT_NAME=0000:00:01.0\nPCI_CLASS=30000\nPCI_ID=12345:2").is_err());
        let (_, ids, driver) =
            parse_uevent("PCI_SLOT_NAME=0000:00:01.0\nPCI_CLASS=38000\nPCI_ID=1af4:1050").unwrap();
        assert_eq!((ids.class, ids.subsystem, driver), (0x038000, None, None));
    }

    #[test]
    fn pci_addresses() {
        assert!(is_pci_address("0000:01:00.0"));
        assert!(is_pci_address("10000:e1:00.7"));
        assert!(!is_pci_address("00000000:01:00"));
        assert!(!is_pci_address("virtio0"));
        assert!(!is_pci_address("pci0000:00"));
        assert!(!is_pci_address("0000:01:00.0:1"));
    }
}
