//! Which disk speaks which health protocol, and the health of each.
//!
//! NVMe controllers (`/sys/class/nvme`) are asked for their SMART / health log; SCSI-class
//! disks whose vendor is `ATA` (libata: SATA behind AHCI or a SAS HBA) for ATA SMART; other
//! SCSI disks for the Informational Exceptions log page. Everything else in `/sys/block`
//! (virtio, loop, zram, device mapper, MMC...) has no health report of its own and is listed as
//! [`Status::Unsupported`] with the reason. A device node that is absent or not permitted makes
//! the disk [`Status::Unavailable`].

use super::{Assessment, Status, ata, nvme, scsi};
use crate::error::Result;
use crate::linux::storage::{block, nvme as nvme_sysfs};
use crate::root::FsRoot;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

/// The health protocol a disk answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// NVMe SMART / health log.
    Nvme,
    /// ATA SMART through SAT.
    Ata,
    /// SCSI Informational Exceptions.
    Scsi,
}

/// Health of one disk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiskHealth {
    /// Kernel name: the NVMe controller (`nvme0`) or the block device (`sda`, `vda`).
    pub device: String,
    /// The protocol asked; `None` when the device has none.
    pub protocol: Option<Protocol>,
    /// Block devices on it (an NVMe controller's namespaces; the disk itself otherwise).
    pub block_devices: Vec<String>,
    /// PCI address of the controller, where it is on PCI.
    pub pci_address: Option<String>,
    /// Model from sysfs.
    pub model: Option<String>,
    /// Serial number from sysfs.
    pub serial: Option<String>,
    /// State and reasons.
    #[serde(flatten)]
    pub assessment: Assessment,
    /// The NVMe SMART / health log, when read.
    pub nvme: Option<nvme::HealthLog>,
    /// ATA SMART, when read.
    pub ata: Option<ata::Smart>,
    /// SCSI Informational Exceptions, when read.
    pub scsi: Option<scsi::InformationalExceptions>,
}

/// Classes of block devices that have no health report, with the reason.
fn no_report(class: Option<&str>) -> Option<&'static str> {
    Some(match class? {
        "virtio" => "virtio-blk disk: the hypervisor passes no SMART or health log through",
        "xen" => "Xen virtual disk: the hypervisor passes no SMART or health log through",
        "loop" => "loop device: a file, not hardware",
        "zram" | "ram" => "RAM disk: memory, not a disk (memory errors are under EDAC)",
        "dm" | "md" => "software device over other disks: see those disks",
        "nbd" | "rbd" | "drbd" => "network block device: its health is the remote side's",
        "mmc" => "eMMC/SD: health (EXT_CSD life time estimates) is not read",
        "ide" => "legacy IDE name: not read",
        _ => return None,
    })
}

/// Checks every disk under `root`. Fails only when `/sys/block` cannot be listed.
pub fn check(root: &FsRoot) -> Result<Vec<DiskHealth>> {
    let mut problems = Vec::new();
    let controllers = nvme_sysfs::detect(root, &mut problems).unwrap_or_default();
    let mut out: Vec<DiskHealth> = controllers
        .iter()
        .map(|c| {
            let mut d = DiskHealth {
                device: c.name.clone(),
                protocol: Some(Protocol::Nvme),
                block_devices: c.namespaces.clone(),
                pci_address: c.pci_address.clone(),
                model: c.model.clone(),
                serial: c.serial.clone(),
                ..DiskHealth::default()
            };
            match device_node(root, &c.name).and_then(|p| nvme::read_log(&p).map_err(|e| unreadable(&p, e))) {
                Ok(page) => match nvme::parse(&page) {
                    Ok(log) => {
                        d.assessment = log.assess();
                        d.nvme = Some(log);
                    }
                    Err(e) => d.assessment = Assessment::not_read(Status::Unavailable, e.to_string()),
                },
                Err(a) => d.assessment = a,
            }
            d
        })
        .collect();
    for name in root.read_dir("/sys/block")? {
        let class = block::class_of(&name);
        if class == Some("nvme") || name.starts_with("sr") {
            continue; // NVMe namespaces are their controllers'; optical drives have no media health.
        }
        let dir = format!("/sys/block/{name}");
        if root.read_opt_parsed::<u64>(&format!("{dir}/size")) == Some(0) {
            continue; // Unattached loop devices and empty slots, as lsblk leaves them out.
        }
        let attr = |a: &str| root.read_opt(&format!("{dir}/device/{a}"));
        let mut d = DiskHealth {
            device: name.clone(),
            block_devices: vec![name.clone()],
            pci_address: root
                .read_link(&dir)
                .ok()
                .and_then(|t| crate::linux::devpath::pci_address(&t, "block").or_else(|| pci_of_scsi(&t))),
            model: attr("model"),
            // SCSI and most drivers put it on the device; virtio-blk on the disk itself.
            serial: attr("serial").or_else(|| root.read_opt(&format!("{dir}/serial"))),
            ..DiskHealth::default()
        };
        if let Some(why) = no_report(class) {
            d.assessment = Assessment::not_read(Status::Unsupported, why);
        } else if class == Some("scsi") {
            let ata = attr("vendor").is_some_and(|v| v.trim() == "ATA");
            d.protocol = Some(if ata { Protocol::Ata } else { Protocol::Scsi });
            ask_scsi_disk(root, &mut d, ata);
        } else {
            d.assessment = Assessment::not_read(Status::Unsupported, "unknown kind of block device");
        }
        out.push(d);
    }
    Ok(out)
}

/// PCI address of the host adapter in a SCSI disk's sysfs path (the last PCI address before
/// `/hostN/`).
fn pci_of_scsi(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    let host = parts.iter().position(|c| c.starts_with("host"))?;
    parts[..host].iter().rev().find(|c| crate::linux::devpath::is_pci_address(c)).map(|c| c.to_string())
}

/// Asks a SCSI-class disk for ATA SMART or the Informational Exceptions page.
fn ask_scsi_disk(root: &FsRoot, d: &mut DiskHealth, ata: bool) {
    let file = match device_node(root, &d.device).and_then(|p| open(&p).map_err(|e| unreadable(&p, e))) {
        Ok(f) => f,
        Err(a) => {
            d.assessment = a;
            return;
        }
    };
    if ata {
        match ata::read(&file) {
            Ok(smart) => {
                d.assessment = smart.assess();
                d.ata = Some(smart);
            }
            Err(ata::ReadError::Io(e)) => {
                d.assessment = unreadable(&root.host_path(&format!("/dev/{}", d.device)), e)
            }
            Err(e @ ata::ReadError::Refused { .. }) => {
                d.assessment = Assessment::not_read(Status::Unsupported, format!("ATA SMART: {e}"))
            }
            Err(e) => d.assessment = Assessment::not_read(Status::Unavailable, format!("ATA SMART: {e}")),
        }
        return;
    }
    match scsi::read_ie(&file) {
        Ok(Some(page)) => match scsi::parse_ie_page(&page) {
            Ok(ie) => {
                d.assessment = ie.assess();
                d.scsi = Some(ie);
            }
            Err(e) => d.assessment = Assessment::not_read(Status::Unavailable, e.to_string()),
        },
        Ok(None) => {
            d.assessment = Assessment::not_read(
                Status::Unsupported,
                "the device has no Informational Exceptions log page (no SMART)",
            )
        }
        Err(e) => d.assessment = unreadable(&root.host_path(&format!("/dev/{}", d.device)), e),
    }
}

/// `/dev/NAME` on the live host; under an alternate root, `ROOT/dev/NAME` where the root has it.
fn device_node(root: &FsRoot, name: &str) -> std::result::Result<PathBuf, Assessment> {
    let path = root.host_path(&format!("/dev/{name}"));
    if path.exists() {
        Ok(path)
    } else {
        Err(Assessment::not_read(Status::Unavailable, format!("no device node {}", path.display())))
    }
}

/// Opens a disk for SG_IO: read-only, non-blocking (a tray or a busy device must not stall).
fn open(path: &std::path::Path) -> io::Result<File> {
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)
}

/// Why a device could not be asked, as an assessment: no permission and no such ioctl are
/// `unavailable` and `unsupported`, never errors of the report.
fn unreadable(path: &std::path::Path, e: io::Error) -> Assessment {
    let why = match e.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => {
            format!("{}: {e}: needs root (CAP_SYS_ADMIN for NVMe, CAP_SYS_RAWIO for SG_IO)", path.display())
        }
        Some(libc::ENOTTY | libc::EINVAL | libc::EOPNOTSUPP) => {
            return Assessment::not_read(
                Status::Unsupported,
                format!("{}: the driver does not take this command: {e}", path.display()),
            );
        }
        _ => format!("{}: {e}", path.display()),
    };
    Assessment::not_read(Status::Unavailable, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scsi_host_adapter_address() {
        let p = "../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda";
        assert_eq!(pci_of_scsi(p).as_deref(), Some("0000:00:1f.2"));
        assert_eq!(pci_of_scsi("../devices/platform/foo/block/sda"), None);
    }

    #[test]
    fn refusals_are_verdicts_not_errors() {
        let dev = std::path::Path::new("/dev/nvme0");
        let denied = unreadable(dev, io::Error::from_raw_os_error(libc::EPERM));
        assert_eq!(denied.status, Status::Unavailable);
        assert!(denied.reasons[0].contains("needs root (CAP_SYS_ADMIN"), "{denied:?}");
        let no_ioctl = unreadable(dev, io::Error::from_raw_os_error(libc::ENOTTY));
        assert_eq!(no_ioctl.status, Status::Unsupported);
        let other = unreadable(dev, io::Error::from_raw_os_error(libc::EIO));
        assert_eq!(other.status, Status::Unavailable);
    }

    #[test]
    fn software_devices_have_a_reason() {
        assert!(no_report(Some("virtio")).unwrap().contains("virtio"));
        assert!(no_report(Some("zram")).is_some());
        assert!(no_report(Some("loop")).is_some());
        assert_eq!(no_report(Some("scsi")), None);
        assert_eq!(no_report(None), None);
    }
}
