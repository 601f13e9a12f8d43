use serde::{Deserialize, Serialize};

/// Block devices and filesystems.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Storage {
    /// Whole disks (partitions are listed under their disk).
    pub block_devices: Vec<BlockDevice>,
    /// Mounted real filesystems.
    pub filesystems: Vec<Filesystem>,
    /// NVMe controllers (`/sys/class/nvme`), with the namespaces they serve.
    pub nvme_controllers: Vec<NvmeController>,
}

/// An NVMe controller.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NvmeController {
    /// Kernel name, e.g. `nvme0`.
    pub name: String,
    /// Model string.
    pub model: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Firmware revision.
    pub firmware: Option<String>,
    /// Transport (`pcie`, `tcp`, `rdma`, `fc`, `loop`).
    pub transport: Option<String>,
    /// Controller state (`live`, `resetting`, `dead`, ...).
    pub state: Option<String>,
    /// Controller id within its subsystem.
    pub cntlid: Option<u32>,
    /// PCI address, for PCIe controllers.
    pub pci_address: Option<String>,
    /// Namespaces attached to this controller (block device names, e.g. `nvme0n1`).
    pub namespaces: Vec<String>,
}

/// What a block device is, as far as a scheduler cares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiskKind {
    /// NVMe namespace.
    Nvme,
    /// Non-rotational SATA/SAS/USB disk.
    Ssd,
    /// Rotational disk.
    Hdd,
    /// Virtual device: virtio, xen, loop, ram, zram, device-mapper, md, network block device.
    Virtual,
    /// Removable media.
    Removable,
    /// Not known.
    #[default]
    Unknown,
}

/// A whole block device.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BlockDevice {
    /// Kernel name, e.g. `nvme0n1`, `sda`, `vda`.
    pub name: String,
    /// Device kind.
    pub kind: DiskKind,
    /// Finer device class (`loop`, `ram`, `zram`, `dm`, `md`, `virtio`, `scsi`, `nvme`, ...).
    pub class: Option<String>,
    /// Size in bytes (the kernel's 512-byte sector count × 512); `None` when unreadable.
    pub size_bytes: Option<u64>,
    /// Logical block size in bytes.
    pub logical_block_bytes: Option<u32>,
    /// Physical block size in bytes.
    pub physical_block_bytes: Option<u32>,
    /// Kernel's rotational flag.
    pub rotational: Option<bool>,
    /// Removable flag.
    pub removable: Option<bool>,
    /// Read-only flag.
    pub read_only: Option<bool>,
    /// Model string.
    pub model: Option<String>,
    /// Vendor string.
    pub vendor: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Firmware revision.
    pub firmware: Option<String>,
    /// World wide name.
    pub wwn: Option<String>,
    /// Transport (`nvme`, `sata`, `sas`, `usb`, `virtio`, ...).
    pub transport: Option<String>,
    /// I/O scheduler in use.
    pub scheduler: Option<String>,
    /// Partitions.
    pub partitions: Vec<Partition>,
}

/// A partition of a block device.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Partition {
    /// Kernel name, e.g. `nvme0n1p1`.
    pub name: String,
    /// Size in bytes (512-byte sectors × 512); `None` when unreadable.
    pub size_bytes: Option<u64>,
    /// Start sector (512-byte units).
    pub start_sector: Option<u64>,
}

/// A mounted filesystem.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filesystem {
    /// Source device (`/dev/vda`, `server:/export`).
    pub device: String,
    /// `major:minor` of the filesystem's device (`0:42` for NFS and other anonymous devices).
    pub major_minor: String,
    /// Mount point.
    pub mount_point: String,
    /// Filesystem type.
    pub fs_type: String,
    /// Mount options.
    pub options: Vec<String>,
    /// Capacity in bytes (statvfs; `None` under an alternate root or when statvfs failed).
    pub total_bytes: Option<u64>,
    /// Free bytes.
    pub free_bytes: Option<u64>,
    /// Bytes available to unprivileged users.
    pub available_bytes: Option<u64>,
    /// Inodes in total.
    pub inodes_total: Option<u64>,
    /// Inodes free.
    pub inodes_free: Option<u64>,
    /// Kind of the disk that holds it, where the backend knows it (the portable backend's only
    /// disk information: sysinfo's SSD/HDD/removable per mounted filesystem).
    #[serde(default)]
    pub disk_kind: Option<DiskKind>,
}
