//! NVIDIA facts through NVML (`libnvidia-ml.so.1`, loaded at run time by `nvml-wrapper`), merged
//! into the PCI entries of the same bus id.
//!
//! NVML is initialised at most once per process ([`shared`]) and its initialisation time is kept
//! apart ([`init_time`]): it is the driver's cost, often 100 ms or more. The merge logic works on
//! the [`NvmlApi`] trait so it is tested without a driver.

use super::attrs;
use crate::model::{Gpu, MigMode, PcieLink};
use nvml_wrapper::Nvml;
use nvml_wrapper::enum_wrappers::device::{Clock, TemperatureSensor};
use nvml_wrapper::error::NvmlError;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// NVIDIA's PCI vendor id, as [`Gpu::vendor_id`] spells it.
pub const NVIDIA_VENDOR_ID: &str = "10de";

/// What NVML reports for one GPU. A query that failed leaves its field `None` and adds a note.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NvmlDevice {
    /// Marketing name (`NVIDIA H100 80GB HBM3`).
    pub name: Option<String>,
    /// `GPU-...` UUID.
    pub uuid: Option<String>,
    /// Board serial number.
    pub serial: Option<String>,
    /// Installed framebuffer memory, bytes.
    pub memory_total: Option<u64>,
    /// Allocated memory, bytes.
    pub memory_used: Option<u64>,
    /// Unallocated memory, bytes.
    pub memory_free: Option<u64>,
    /// GPU and memory utilisation, percent.
    pub utilization: Option<(u32, u32)>,
    /// Die temperature, °C.
    pub temperature: Option<u32>,
    /// Power draw, milliwatts.
    pub power_draw_mw: Option<u32>,
    /// Enforced power limit, milliwatts.
    pub power_limit_mw: Option<u32>,
    /// SM clock now and at most, MHz.
    pub sm_clock: (Option<u32>, Option<u32>),
    /// Memory clock now and at most, MHz.
    pub memory_clock: (Option<u32>, Option<u32>),
    /// PCIe generation now and at most.
    pub pcie_generation: (Option<u32>, Option<u32>),
    /// PCIe lanes now and at most.
    pub pcie_width: (Option<u32>, Option<u32>),
    /// MIG mode, where the GPU supports MIG.
    pub mig: Option<MigMode>,
    /// ECC enabled now.
    pub ecc_enabled: Option<bool>,
    /// CUDA compute capability (major, minor).
    pub compute_capability: Option<(i32, i32)>,
    /// Queries that failed, and why.
    pub notes: Vec<String>,
}

/// The NVML calls detection needs.
pub trait NvmlApi {
    /// Driver version (`550.54.15`).
    fn driver_version(&self) -> Result<String, String>;
    /// Highest CUDA version the driver supports (`12.4`).
    fn cuda_version(&self) -> Result<String, String>;
    /// Everything about the GPU at `pci_bus_id` (`0000:01:00.0`).
    fn device(&self, pci_bus_id: &str) -> Result<NvmlDevice, String>;
}

/// Merges NVML facts into every NVIDIA entry of `gpus`. `api` is the initialised NVML or the
/// reason it could not be had; in that case each NVIDIA GPU gets a note saying so.
pub fn merge(gpus: &mut [Gpu], api: Result<&dyn NvmlApi, &str>) {
    let mut versions: Option<(Option<String>, Option<String>, Vec<String>)> = None;
    for gpu in gpus.iter_mut().filter(|g| g.vendor_id == NVIDIA_VENDOR_ID) {
        let api = match api {
            Ok(api) => api,
            Err(reason) => {
                gpu.notes.push(format!(
                    "NVML unavailable: {reason}; memory, utilisation, temperature, UUID and clocks unknown"
                ));
                continue;
            }
        };
        let (driver, cuda, problems) = versions.get_or_insert_with(|| {
            let mut problems = Vec::new();
            let driver = api.driver_version().map_err(|e| problems.push(format!("NVML driver version: {e}")));
            let cuda = api.cuda_version().map_err(|e| problems.push(format!("NVML CUDA version: {e}")));
            (driver.ok(), cuda.ok(), problems)
        });
        gpu.driver_version = driver.clone();
        gpu.cuda_version = cuda.clone();
        gpu.notes.extend(problems.iter().cloned());
        match api.device(&gpu.pci_address) {
            Ok(device) => apply(device, gpu),
            Err(e) => gpu.notes.push(format!("NVML has no device at {}: {e}", gpu.pci_address)),
        }
    }
}

/// Copies NVML's facts into `gpu`: NVML's name replaces the pci.ids one, the sysfs PCIe link is
/// kept where it is known.
fn apply(d: NvmlDevice, gpu: &mut Gpu) {
    gpu.model = d.name.or(gpu.model.take());
    gpu.uuid = d.uuid;
    gpu.serial = d.serial;
    gpu.memory_total_bytes = d.memory_total;
    gpu.memory_used_bytes = d.memory_used;
    gpu.memory_free_bytes = d.memory_free;
    gpu.utilization_percent = d.utilization.map(|u| u.0.into());
    gpu.memory_utilization_percent = d.utilization.map(|u| u.1.into());
    gpu.temperature_celsius = d.temperature.map(f64::from);
    gpu.power_draw_watts = d.power_draw_mw.map(|mw| f64::from(mw) / 1000.0);
    gpu.power_limit_watts = d.power_limit_mw.map(|mw| f64::from(mw) / 1000.0);
    (gpu.core_clock_mhz, gpu.core_clock_max_mhz) = d.sm_clock;
    (gpu.memory_clock_mhz, gpu.memory_clock_max_mhz) = d.memory_clock;
    let link = gpu.pcie.get_or_insert_with(PcieLink::default);
    link.current_generation = link.current_generation.or(d.pcie_generation.0);
    link.max_generation = link.max_generation.or(d.pcie_generation.1);
    link.current_speed_gts = link.current_speed_gts.or(d.pcie_generation.0.and_then(attrs::speed_of));
    link.max_speed_gts = link.max_speed_gts.or(d.pcie_generation.1.and_then(attrs::speed_of));
    link.current_width = link.current_width.or(d.pcie_width.0);
    link.max_width = link.max_width.or(d.pcie_width.1);
    if *link == PcieLink::default() {
        gpu.pcie = None;
    }
    gpu.mig = d.mig;
    gpu.ecc_enabled = d.ecc_enabled;
    gpu.compute_capability = d.compute_capability.map(|(major, minor)| format!("{major}.{minor}"));
    gpu.notes.extend(d.notes);
}

/// The process's NVML, initialised on first use.
struct Session {
    nvml: Result<Nvml, String>,
    init_time: Duration,
}

static SESSION: OnceLock<Session> = OnceLock::new();

/// The process's NVML (initialised on the first call, never again), or why it is unavailable.
pub fn shared() -> Result<&'static dyn NvmlApi, &'static str> {
    shared_handle().map(|nvml| nvml as &dyn NvmlApi)
}

/// The same NVML session as [`shared`], as the library handle, for queries beyond [`NvmlApi`]
/// (the health checks' ECC and page retirement counters).
pub fn shared_handle() -> Result<&'static Nvml, &'static str> {
    let session = SESSION.get_or_init(|| {
        let start = Instant::now();
        let nvml = Nvml::init().map_err(|e| e.to_string());
        Session { nvml, init_time: start.elapsed() }
    });
    match &session.nvml {
        Ok(nvml) => Ok(nvml),
        Err(reason) => Err(reason),
    }
}

/// How long NVML's initialisation took (successful or not); `None` when it was never attempted
/// (no NVIDIA GPU, or an alternate root).
pub fn init_time() -> Option<Duration> {
    SESSION.get().map(|s| s.init_time)
}

impl NvmlApi for Nvml {
    fn driver_version(&self) -> Result<String, String> {
        self.sys_driver_version().map_err(|e| e.to_string())
    }

    fn cuda_version(&self) -> Result<String, String> {
        let v = self.sys_cuda_driver_version().map_err(|e| e.to_string())?;
        Ok(format!(
            "{}.{}",
            nvml_wrapper::cuda_driver_version_major(v),
            nvml_wrapper::cuda_driver_version_minor(v)
        ))
    }

    fn device(&self, pci_bus_id: &str) -> Result<NvmlDevice, String> {
        let dev = self.device_by_pci_bus_id(pci_bus_id).map_err(|e| e.to_string())?;
        let mut notes = Vec::new();
        let memory = note_err(&mut notes, "memory", dev.memory_info());
        let name = note_err(&mut notes, "name", dev.name());
        let uuid = note_err(&mut notes, "UUID", dev.uuid());
        let serial = note_err(&mut notes, "serial", dev.serial());
        let utilization =
            note_err(&mut notes, "utilisation", dev.utilization_rates()).map(|u| (u.gpu, u.memory));
        let temperature = note_err(&mut notes, "temperature", dev.temperature(TemperatureSensor::Gpu));
        let power_draw_mw = note_err(&mut notes, "power draw", dev.power_usage());
        let power_limit_mw = note_err(&mut notes, "power limit", dev.enforced_power_limit());
        let sm_clock = (
            note_err(&mut notes, "SM clock", dev.clock_info(Clock::SM)),
            note_err(&mut notes, "SM max clock", dev.max_clock_info(Clock::SM)),
        );
        let memory_clock = (
            note_err(&mut notes, "memory clock", dev.clock_info(Clock::Memory)),
            note_err(&mut notes, "memory max clock", dev.max_clock_info(Clock::Memory)),
        );
        let pcie_generation = (
            note_err(&mut notes, "PCIe generation", dev.current_pcie_link_gen()),
            note_err(&mut notes, "PCIe max generation", dev.max_pcie_link_gen()),
        );
        let pcie_width = (
            note_err(&mut notes, "PCIe width", dev.current_pcie_link_width()),
            note_err(&mut notes, "PCIe max width", dev.max_pcie_link_width()),
        );
        let mig = note_err(&mut notes, "MIG mode", dev.mig_mode())
            .map(|m| MigMode { enabled: m.current != 0, pending: m.pending != 0 });
        let ecc_enabled = note_err(&mut notes, "ECC mode", dev.is_ecc_enabled()).map(|e| e.currently_enabled);
        let compute_capability = note_err(&mut notes, "compute capability", dev.cuda_compute_capability())
            .map(|c| (c.major, c.minor));
        Ok(NvmlDevice {
            name,
            uuid,
            serial,
            memory_total: memory.as_ref().map(|m| m.total),
            memory_used: memory.as_ref().map(|m| m.used),
            memory_free: memory.as_ref().map(|m| m.free),
            utilization,
            temperature,
            power_draw_mw,
            power_limit_mw,
            sm_clock,
            memory_clock,
            pcie_generation,
            pcie_width,
            mig,
            ecc_enabled,
            compute_capability,
            notes,
        })
    }
}

/// The value, or `None` with a note `NVML WHAT: cause`. "Not supported" is expected for features
/// a GPU lacks (MIG, ECC on consumer cards) and is not noted.
fn note_err<T>(notes: &mut Vec<String>, what: &str, r: Result<T, NvmlError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(NvmlError::NotSupported) => None,
        Err(e) => {
            notes.push(format!("NVML {what}: {e}"));
            None
        }
    }
}
