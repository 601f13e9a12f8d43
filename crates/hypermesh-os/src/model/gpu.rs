use serde::{Deserialize, Serialize};

/// Whether a GPU is part of the CPU package, a separate card, or emulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GpuKind {
    /// A separate card or module.
    Discrete,
    /// Part of the CPU or chipset.
    Integrated,
    /// Emulated or paravirtual (virtio-gpu, QXL, bochs, VMware SVGA, Hyper-V).
    Virtual,
}

/// PCIe link of a device: what it runs at now and the most it can do.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PcieLink {
    /// Current transfer rate per lane in GT/s (8.0 = PCIe 3).
    pub current_speed_gts: Option<f64>,
    /// Current number of lanes.
    pub current_width: Option<u32>,
    /// Highest transfer rate the device and its slot support, GT/s.
    pub max_speed_gts: Option<f64>,
    /// Most lanes the device supports.
    pub max_width: Option<u32>,
    /// PCIe generation matching `current_speed_gts` (1..=6).
    pub current_generation: Option<u32>,
    /// PCIe generation matching `max_speed_gts`.
    pub max_generation: Option<u32>,
}

/// Multi-Instance GPU mode (NVIDIA data-centre GPUs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigMode {
    /// MIG is enabled now.
    pub enabled: bool,
    /// MIG will be enabled after the next GPU reset.
    pub pending: bool,
}

/// One GPU.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Gpu {
    /// PCI address, `0000:01:00.0`.
    pub pci_address: String,
    /// Vendor name.
    pub vendor: Option<String>,
    /// Model name.
    pub model: Option<String>,
    /// Discrete, integrated or virtual; `None` when it cannot be told.
    pub kind: Option<GpuKind>,
    /// Kernel driver.
    pub driver: Option<String>,
    /// Memory in bytes.
    pub memory_total_bytes: Option<u64>,
    /// Memory in use in bytes (live value).
    pub memory_used_bytes: Option<u64>,
    /// Busy percentage (live value).
    pub utilization_percent: Option<f64>,
    /// Temperature in °C (live value).
    pub temperature_celsius: Option<f64>,
    /// UUID (NVIDIA).
    pub uuid: Option<String>,
    /// PCI vendor id, four lower-case hex digits as `lspci -n` prints it (`10de`).
    pub vendor_id: String,
    /// PCI device id (`2330`).
    pub device_id: String,
    /// PCI subsystem vendor id (the board maker), when the device has one.
    pub subsystem_vendor_id: Option<String>,
    /// PCI subsystem device id.
    pub subsystem_device_id: Option<String>,
    /// PCI class code, six hex digits (`030000` VGA, `030200` 3D controller, `038000` display).
    pub class_code: String,
    /// NUMA node the device is attached to; `None` on single-node hosts (the kernel says -1).
    pub numa_node: Option<u32>,
    /// PCIe link state.
    pub pcie: Option<PcieLink>,
    /// True for the VGA device the firmware booted on.
    pub boot_vga: Option<bool>,
    /// DRM card node name (`card0`).
    pub drm_card: Option<String>,
    /// DRM render node name (`renderD128`).
    pub drm_render: Option<String>,
    /// Memory visible to the CPU through the PCI BAR (AMD), bytes.
    pub memory_visible_total_bytes: Option<u64>,
    /// Visible memory in use (AMD), bytes.
    pub memory_visible_used_bytes: Option<u64>,
    /// Unallocated memory in bytes (NVML).
    pub memory_free_bytes: Option<u64>,
    /// Share of time the memory was read or written, percent (NVML).
    pub memory_utilization_percent: Option<f64>,
    /// Power drawn now, watts.
    pub power_draw_watts: Option<f64>,
    /// Power limit enforced now, watts.
    pub power_limit_watts: Option<f64>,
    /// Core clock now (NVIDIA SM, AMD sclk, Intel GT actual), MHz.
    pub core_clock_mhz: Option<u32>,
    /// Highest core clock, MHz.
    pub core_clock_max_mhz: Option<u32>,
    /// Memory clock now, MHz.
    pub memory_clock_mhz: Option<u32>,
    /// Highest memory clock, MHz.
    pub memory_clock_max_mhz: Option<u32>,
    /// Board serial number.
    pub serial: Option<String>,
    /// Video BIOS version.
    pub vbios_version: Option<String>,
    /// Version of the vendor's driver stack (NVIDIA driver version from NVML).
    pub driver_version: Option<String>,
    /// Highest CUDA version the driver supports (`12.4`).
    pub cuda_version: Option<String>,
    /// CUDA compute capability (`9.0`).
    pub compute_capability: Option<String>,
    /// MIG mode; `None` where the GPU has no MIG.
    pub mig: Option<MigMode>,
    /// ECC enabled now; `None` where the GPU has no ECC or it cannot be read.
    pub ecc_enabled: Option<bool>,
    /// What could not be read for this GPU and why (NVML missing, a sysfs file unreadable...).
    pub notes: Vec<String>,
}
