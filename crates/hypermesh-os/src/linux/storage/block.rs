//! Block devices from `/sys/block`: one entry per whole disk, partitions as its children.
//! `/sys/class/block` is read beside it: older kernels list some disks (NVMe namespaces, pmem)
//! only there. Its entries also name every partition; those of disks already listed are
//! known from their disk, and any other entry with a `partition` file is a partition too,
//! never a disk. Each device is listed once.
//!
//! Reads are kept to what each kind of device has: the sysfs link of `/sys/block/X` already
//! spells the bus chain (USB, SATA, SAS, virtio...), so the transport costs no extra read, and
//! identity files are read only where that device class has them. Unattached loop devices
//! (size 0) are left out, as `lsblk` does.

use crate::error::Result;
use crate::linux::devpath;
use crate::linux::storage::nvme;
use crate::model::{BlockDevice, DiskKind, NvmeController, Partition};
use crate::profile::Problems;
use crate::root::FsRoot;
use std::io::Read;

const BLOCK: &str = "/sys/block";
const CLASS_BLOCK: &str = "/sys/class/block";

/// Classes whose devices are software or hypervisor constructs, never physical media.
const VIRTUAL_CLASSES: &[&str] = &["loop", "ram", "zram", "dm", "md", "nbd", "rbd", "drbd", "virtio", "xen"];

/// SCSI vendor strings of hypervisors' emulated disks.
const HYPERVISOR_VENDORS: &[&str] = &["QEMU", "VMware", "VMware,", "VBOX", "Msft", "Google", "XENSRC"];

/// Lists whole block devices. `nvme` is the controller list, which supplies model, serial,
/// firmware and transport of NVMe namespaces without reading them again.
pub fn detect(root: &FsRoot, nvme: &[NvmeController], problems: &mut Problems) -> Result<Vec<BlockDevice>> {
    let (block, class) = (root.read_dir(BLOCK), root.read_dir(CLASS_BLOCK));
    let (names, class) = match (block, class) {
        (Err(e), Err(_)) => return Err(e),
        (block, class) => (block.unwrap_or_default(), class.unwrap_or_default()),
    };
    let mut devices: Vec<BlockDevice> =
        names.iter().filter_map(|n| device(root, BLOCK, n, nvme, problems)).collect();
    let mut known: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
    let partitions: Vec<String> =
        devices.iter().flat_map(|d| d.partitions.iter().map(|p| p.name.clone())).collect();
    known.extend(partitions.iter().map(String::as_str));
    for name in class.iter().filter(|n| !known.contains(n.as_str())) {
        if root.exists(&format!("{CLASS_BLOCK}/{name}/partition")) {
            continue;
        }
        devices.extend(device(root, CLASS_BLOCK, name, nvme, problems));
    }
    devices.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(devices)
}

/// Device class from the kernel name, which each block driver chooses itself.
pub fn class_of(name: &str) -> Option<&'static str> {
    let num = |p: &str| name.strip_prefix(p).is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()));
    let letter =
        |p: &str| name.strip_prefix(p).is_some_and(|r| r.starts_with(|c: char| c.is_ascii_lowercase()));
    Some(match () {
        _ if num("loop") => "loop",
        _ if num("zram") => "zram",
        _ if num("ram") => "ram",
        _ if num("dm-") => "dm",
        _ if num("md") || name.starts_with("md_") => "md",
        _ if num("nbd") => "nbd",
        _ if num("rbd") => "rbd",
        _ if num("drbd") => "drbd",
        _ if num("nvme") => "nvme",
        _ if num("mmcblk") => "mmc",
        _ if letter("vd") => "virtio",
        _ if letter("xvd") => "xen",
        _ if letter("sd") || num("sr") => "scsi",
        _ if letter("hd") => "ide",
        _ => return None,
    })
}

/// Transport of a SCSI-class disk, read off its sysfs path.
pub fn scsi_transport(link: &str) -> &'static str {
    if link.contains("/usb") {
        "usb"
    } else if link.contains("/ata") {
        "sata"
    } else if link.contains("/end_device-") || link.contains("/sas_") {
        "sas"
    } else if link.contains("/rport-") {
        "fc"
    } else if link.contains("/session") {
        "iscsi"
    } else if link.contains("/virtio") {
        "virtio"
    } else if link.contains("/VMBUS") || link.contains("/vmbus") {
        "hyperv"
    } else {
        "scsi"
    }
}

/// Decides the kind: virtual constructs first (a virtio or zram disk says rotational=1 but is
/// no HDD), then NVMe, removable media, and finally the rotational flag.
pub fn kind_of(d: &BlockDevice, virtual_path: bool) -> DiskKind {
    let class = d.class.as_deref().unwrap_or("");
    let transport = d.transport.as_deref().unwrap_or("");
    let hypervisor_vendor = d.vendor.as_deref().is_some_and(|v| HYPERVISOR_VENDORS.contains(&v));
    if virtual_path
        || VIRTUAL_CLASSES.contains(&class)
        || matches!(transport, "virtio" | "xen" | "hyperv")
        || hypervisor_vendor
    {
        DiskKind::Virtual
    } else if class == "nvme" {
        DiskKind::Nvme
    } else if d.removable == Some(true) {
        DiskKind::Removable
    } else {
        match d.rotational {
            Some(false) => DiskKind::Ssd,
            Some(true) => DiskKind::Hdd,
            None => DiskKind::Unknown,
        }
    }
}

/// The scheduler in use: the bracketed word of `none [mq-deadline] kyber`, or the only word.
pub fn parse_scheduler(text: &str) -> Option<String> {
    let active = text.split_whitespace().find(|w| w.starts_with('[') && w.ends_with(']'));
    match active {
        Some(w) => Some(w.trim_matches(['[', ']']).to_string()),
        None => {
            let mut words = text.split_whitespace();
            match (words.next(), words.next()) {
                (Some(w), None) => Some(w.to_string()),
                _ => None,
            }
        }
    }
}

/// One whole disk at `dir/name` (`dir` is `/sys/block` or `/sys/class/block`).
fn device(
    root: &FsRoot,
    dir: &str,
    name: &str,
    nvme: &[NvmeController],
    problems: &mut Problems,
) -> Option<BlockDevice> {
    let base = format!("{dir}/{name}");
    let class = class_of(name);
    let size_bytes = sectors_to_bytes(root, &format!("{base}/size"), problems);
    if class == Some("loop") && size_bytes == Some(0) {
        return None;
    }
    // A live /sys/block/X is a link into /sys/devices; a captured tree may hold a directory.
    let link = root.read_link(&base).ok();
    let flag = |a: &str| root.read_opt_parsed::<u8>(&format!("{base}/{a}")).map(|v| v != 0);
    let mut d = BlockDevice {
        name: name.to_string(),
        class: class.map(str::to_string),
        size_bytes,
        rotational: flag("queue/rotational"),
        logical_block_bytes: root.read_opt_parsed(&format!("{base}/queue/logical_block_size")),
        physical_block_bytes: root.read_opt_parsed(&format!("{base}/queue/physical_block_size")),
        removable: flag("removable"),
        read_only: flag("ro"),
        scheduler: root.read_opt(&format!("{base}/queue/scheduler")).and_then(|s| parse_scheduler(&s)),
        ..Default::default()
    };
    identity(root, &base, link.as_deref(), nvme, &mut d);
    d.kind = kind_of(&d, link.as_deref().is_some_and(devpath::is_virtual));
    d.partitions = partitions(root, &base, name, problems);
    Some(d)
}

/// Model, vendor, serial, firmware, WWN and transport, from where this class keeps them.
fn identity(root: &FsRoot, base: &str, link: Option<&str>, nvme: &[NvmeController], d: &mut BlockDevice) {
    let dev = |a: &str| root.read_opt(&format!("{base}/device/{a}"));
    match d.class.as_deref() {
        Some("nvme") => {
            let ctrl = nvme::controller_of(&d.name).and_then(|c| nvme.iter().find(|n| n.name == c));
            match ctrl {
                Some(c) => {
                    d.model = c.model.clone();
                    d.serial = c.serial.clone();
                    d.firmware = c.firmware.clone();
                    d.transport = c.transport.clone();
                }
                None => {
                    d.model = dev("model");
                    d.serial = dev("serial");
                    d.firmware = dev("firmware_rev");
                    d.transport = dev("transport");
                }
            }
            d.wwn = root.read_opt(&format!("{base}/wwid"));
        }
        Some("scsi") => {
            d.vendor = dev("vendor");
            d.model = dev("model");
            d.firmware = dev("rev");
            d.wwn = dev("wwid");
            d.serial = vpd_serial(root, &format!("{base}/device/vpd_pg80"));
            d.transport = link.map(|l| scsi_transport(l).to_string());
        }
        Some("virtio") => {
            d.serial = root.read_opt(&format!("{base}/serial"));
            d.transport = Some("virtio".into());
        }
        Some("mmc") => {
            d.model = dev("name");
            d.serial = dev("serial");
            d.firmware = dev("fwrev");
            d.transport = Some("mmc".into());
        }
        Some("xen") => d.transport = Some("xen".into()),
        _ => {}
    }
}

/// Unit serial number from a SCSI VPD page 0x80 (4-byte header, then the ASCII serial).
fn vpd_serial(root: &FsRoot, path: &str) -> Option<String> {
    let mut raw = Vec::new();
    root.open(path).ok()?.take(256).read_to_end(&mut raw).ok()?;
    parse_vpd80(&raw)
}

/// Parses a VPD page 0x80: byte 1 is the page code, bytes 2..4 the length of the serial.
pub fn parse_vpd80(raw: &[u8]) -> Option<String> {
    if raw.len() < 4 || raw[1] != 0x80 {
        return None;
    }
    let len = u16::from_be_bytes([raw[2], raw[3]]) as usize;
    let serial = raw.get(4..4 + len).unwrap_or(&raw[4..]);
    let s = String::from_utf8_lossy(serial).trim().trim_matches('\0').trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn sectors_to_bytes(root: &FsRoot, path: &str, problems: &mut Problems) -> Option<u64> {
    match root.read_parsed::<u64>(path) {
        Ok(sectors) => Some(sectors.saturating_mul(512)),
        Err(e) => {
            problems.push(e);
            None
        }
    }
}

/// Partitions are the subdirectories named after the disk that have a `start` file.
fn partitions(root: &FsRoot, base: &str, disk: &str, problems: &mut Problems) -> Vec<Partition> {
    let entries = match root.read_dir(base) {
        Ok(e) => e,
        Err(e) => {
            problems.push(e);
            return Vec::new();
        }
    };
    let mut parts = Vec::new();
    for entry in entries.iter().filter(|e| e.len() > disk.len() && e.starts_with(disk)) {
        let dir = format!("{base}/{entry}");
        let start_sector = match root.read_parsed::<u64>(&format!("{dir}/start")) {
            Ok(s) => Some(s),
            Err(e) if e.is_not_found() => continue,
            Err(e) => {
                problems.push(e);
                None
            }
        };
        let size_bytes = sectors_to_bytes(root, &format!("{dir}/size"), problems);
        parts.push(Partition { name: entry.clone(), size_bytes, start_sector });
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_from_names() {
        assert_eq!(class_of("loop0"), Some("loop"));
        assert_eq!(class_of("zram0"), Some("zram"));
        assert_eq!(class_of("ram15"), Some("ram"));
        assert_eq!(class_of("dm-3"), Some("dm"));
        assert_eq!(class_of("md127"), Some("md"));
        assert_eq!(class_of("mmcblk0"), Some("mmc"));
        assert_eq!(class_of("nvme0n1"), Some("nvme"));
        assert_eq!(class_of("vda"), Some("virtio"));
        assert_eq!(class_of("xvdb"), Some("xen"));
        assert_eq!(class_of("sdaa"), Some("scsi"));
        assert_eq!(class_of("sr0"), Some("scsi"));
        assert_eq!(class_of("loop"), None);
        assert_eq!(class_of("weird"), None);
    }

    #[test]
    fn scheduler_and_vpd() {
        assert_eq!(parse_scheduler("none [mq-deadline] kyber bfq").as_deref(), Some("mq-deadline"));
        assert_eq!(parse_scheduler("none").as_deref(), Some("none"));
        assert_eq!(parse_scheduler("noop deadline"), None);
        assert_eq!(parse_scheduler(""), None);
        assert_eq!(parse_vpd80(b"\x00\x80\x00\x0c  WD-WX12345\x00").as_deref(), Some("WD-WX12345"));
        assert_eq!(parse_vpd80(b"\x00\x80\x00\xffshort").as_deref(), Some("short"));
        assert_eq!(parse_vpd80(b"\x00\x83\x00\x02ab"), None);
        assert_eq!(parse_vpd80(b"\x00"), None);
    }

    #[test]
    fn transports_from_paths() {
        let usb = "../devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb";
        assert_eq!(scsi_transport(usb), "usb");
        assert_eq!(
            scsi_transport("../devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda"),
            "sata"
        );
        assert_eq!(
            scsi_transport("../devices/pci0000:00/0000:00:04.0/virtio0/host0/target0:0:0/0:0:0:0/block/sda"),
            "virtio"
        );
        assert_eq!(scsi_transport("../devices/platform/host2/target2:0:0/2:0:0:0/block/sdc"), "scsi");
    }
}
