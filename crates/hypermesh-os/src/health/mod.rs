//! Hardware health: disk SMART and NVMe logs, sensors, memory errors, thermal zones, NVIDIA GPUs.
//!
//! One module per source:
//!
//! | module | source |
//! |---|---|
//! | [`nvme`] | NVMe SMART / health log page (0x02), admin passthrough ioctl on `/dev/nvmeN` |
//! | [`ata`] | ATA SMART READ DATA, READ THRESHOLDS, RETURN STATUS through SG_IO ATA PASS-THROUGH (16) |
//! | [`scsi`] | the SG_IO transport, sense data, and SCSI's Informational Exceptions log page |
//! | [`disks`] | which disk answers which protocol, and why the others cannot answer |
//! | [`hwmon`] | `/sys/class/hwmon`: temperatures, fans, voltages, currents, power, energy |
//! | [`edac`] | `/sys/devices/system/edac/mc`: corrected and uncorrected memory errors |
//! | [`thermal`] | `/sys/class/thermal/thermal_zone*`: temperature and trip points |
//! | [`nvidia`] | NVML: ECC errors, retired pages, throttle reasons |
//!
//! The raw structures (NVMe log, ATA SMART data and thresholds, sense data, SCSI log pages) are
//! parsed by pure functions on bytes; the ioctls that fetch them are thin wrappers. A device
//! that cannot answer (virtio, loop, zram; no device node; no permission) is
//! [`Status::Unsupported`] or [`Status::Unavailable`] with the reason, never an error of the
//! report. [`HealthReport::verdicts`] flattens everything into one verdict per device, keyed by
//! block device names, PCI address and NUMA node, for the asset manager.

pub mod ata;
pub mod disks;
pub mod edac;
pub mod hwmon;
pub mod nvidia;
pub mod nvme;
pub mod scsi;
pub mod thermal;

use crate::root::FsRoot;
use serde::{Deserialize, Serialize};

/// How a device is doing, as far as its own reports tell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Nothing wrong reported.
    #[default]
    Ok,
    /// Still working, but something deserves attention (errors counted, a threshold near).
    Warning,
    /// The device says it is failing, or has failed (SMART failing, NVMe critical warning,
    /// uncorrected memory errors, temperature at its critical limit).
    Failing,
    /// The device has no such report (virtio, loop, zram...): nothing to read, ever.
    Unsupported,
    /// The report exists but could not be read here (no permission, no device node, no driver).
    Unavailable,
}

impl Status {
    /// Rank among the states that describe the hardware (`Unsupported` and `Unavailable` rank
    /// lowest: they say nothing about it).
    fn rank(self) -> u8 {
        match self {
            Status::Unsupported | Status::Unavailable => 0,
            Status::Ok => 1,
            Status::Warning => 2,
            Status::Failing => 3,
        }
    }

    /// The worse of two states.
    pub fn worst(self, other: Status) -> Status {
        if other.rank() > self.rank() { other } else { self }
    }

    /// True when the device must not be handed out: it says it is failing.
    pub fn is_failing(self) -> bool {
        self == Status::Failing
    }
}

/// A state with the findings behind it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// Worst state among the findings (`ok` without any).
    pub status: Status,
    /// One line per finding that is not `ok`, or why nothing could be read.
    pub reasons: Vec<String>,
}

impl Assessment {
    /// Nothing read, and why.
    pub fn not_read(status: Status, reason: impl Into<String>) -> Self {
        Assessment { status, reasons: vec![reason.into()] }
    }

    /// Records a finding; the state becomes the worst seen.
    pub fn note(&mut self, status: Status, reason: impl Into<String>) {
        self.status = self.status.worst(status);
        self.reasons.push(reason.into());
    }
}

/// What a verdict is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A disk (NVMe controller, ATA or SCSI disk, or one that cannot report).
    Disk,
    /// A hardware monitoring chip.
    Sensors,
    /// An EDAC memory controller.
    Memory,
    /// A thermal zone.
    Thermal,
    /// A GPU.
    Gpu,
}

/// One device's health, keyed so that an asset can find it: by the block devices it holds, its
/// PCI address or its NUMA node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// What kind of device.
    pub subject: Subject,
    /// Its name here (`nvme0`, `sda`, `mc0`, `platform_coretemp_0`, `thermal_zone0`, a PCI address).
    pub device: String,
    /// Block devices it holds (an NVMe controller's namespaces, `sda`); empty for other kinds.
    pub block_devices: Vec<String>,
    /// PCI address of the device (`0000:01:00.0`), where it is on PCI.
    pub pci_address: Option<String>,
    /// NUMA node it belongs to, where known (memory controllers, PCI devices).
    pub numa_node: Option<u32>,
    /// State and reasons.
    #[serde(flatten)]
    pub assessment: Assessment,
}

/// A source that could not be read at all (its other entries still report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceError {
    /// `disks`, `hwmon`, `edac`, `thermal` or `gpus`.
    pub source: String,
    /// The path concerned, when there is one.
    pub path: Option<String>,
    /// What went wrong.
    pub message: String,
}

impl SourceError {
    fn new(source: &str, e: &crate::Error) -> Self {
        SourceError {
            source: source.to_string(),
            path: e.path().map(|p| p.display().to_string()),
            message: e.message(),
        }
    }
}

/// Everything the host says about the health of its hardware.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthReport {
    /// Disks, by kernel name.
    pub disks: Vec<disks::DiskHealth>,
    /// hwmon chips with their sensors.
    pub sensors: Vec<hwmon::Chip>,
    /// EDAC memory controllers.
    pub memory_controllers: Vec<edac::MemoryController>,
    /// Thermal zones.
    pub thermal_zones: Vec<thermal::ThermalZone>,
    /// NVIDIA GPUs (NVML).
    pub gpus: Vec<nvidia::GpuHealth>,
    /// Sources that could not be read.
    pub errors: Vec<SourceError>,
}

impl HealthReport {
    /// One verdict per device, in report order.
    pub fn verdicts(&self) -> Vec<Verdict> {
        let disks = self.disks.iter().map(|d| Verdict {
            subject: Subject::Disk,
            device: d.device.clone(),
            block_devices: d.block_devices.clone(),
            pci_address: d.pci_address.clone(),
            numa_node: None,
            assessment: d.assessment.clone(),
        });
        let sensors = self.sensors.iter().map(|c| Verdict {
            subject: Subject::Sensors,
            device: c.chip.clone(),
            block_devices: Vec::new(),
            pci_address: c.pci_address.clone(),
            numa_node: None,
            assessment: c.assess(),
        });
        let memory = self.memory_controllers.iter().map(|m| Verdict {
            subject: Subject::Memory,
            device: m.name.clone(),
            block_devices: Vec::new(),
            pci_address: None,
            numa_node: m.numa_node,
            assessment: m.assess(),
        });
        let thermal = self.thermal_zones.iter().map(|z| Verdict {
            subject: Subject::Thermal,
            device: z.name.clone(),
            block_devices: Vec::new(),
            pci_address: None,
            numa_node: None,
            assessment: z.assess(),
        });
        let gpus = self.gpus.iter().map(|g| Verdict {
            subject: Subject::Gpu,
            device: g.pci_address.clone(),
            block_devices: Vec::new(),
            pci_address: Some(g.pci_address.clone()),
            numa_node: g.numa_node,
            assessment: g.assessment.clone(),
        });
        disks.chain(sensors).chain(memory).chain(thermal).chain(gpus).collect()
    }

    /// The verdict about block device `name` (`nvme0n1`, `sda`), if a disk holds it.
    pub fn for_block_device(&self, name: &str) -> Option<Verdict> {
        self.verdicts().into_iter().find(|v| v.block_devices.iter().any(|b| b == name))
    }
}

/// Reads every health source under `root`. Disks are asked through their device nodes, which
/// exist only on the live host (or under `root/dev` for an alternate root that has them).
pub fn check(root: &FsRoot) -> HealthReport {
    let mut report = HealthReport::default();
    match disks::check(root) {
        Ok(d) => report.disks = d,
        Err(e) => report.errors.push(SourceError::new("disks", &e)),
    }
    match hwmon::read(root) {
        Ok(s) => report.sensors = s,
        Err(e) => report.errors.push(SourceError::new("hwmon", &e)),
    }
    match edac::read(root) {
        Ok(m) => report.memory_controllers = m,
        Err(e) => report.errors.push(SourceError::new("edac", &e)),
    }
    match thermal::read(root) {
        Ok(z) => report.thermal_zones = z,
        Err(e) => report.errors.push(SourceError::new("thermal", &e)),
    }
    match nvidia::check(root) {
        Ok(g) => report.gpus = g,
        Err(e) => report.errors.push(SourceError::new("gpus", &e)),
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_ignores_states_that_say_nothing_about_hardware() {
        assert_eq!(Status::Ok.worst(Status::Failing), Status::Failing);
        assert_eq!(Status::Failing.worst(Status::Warning), Status::Failing);
        assert_eq!(Status::Unavailable.worst(Status::Ok), Status::Ok);
        assert_eq!(Status::Warning.worst(Status::Unsupported), Status::Warning);
        let mut a = Assessment::default();
        a.note(Status::Warning, "w");
        a.note(Status::Failing, "f");
        a.note(Status::Warning, "w2");
        assert_eq!(a.status, Status::Failing);
        assert_eq!(a.reasons, ["w", "f", "w2"]);
    }
}
