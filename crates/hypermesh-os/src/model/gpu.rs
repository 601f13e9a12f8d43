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

/// One GPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}
