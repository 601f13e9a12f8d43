//! NVIDIA GPU health through NVML (the process's session of [`crate::gpu::nvml`]): ECC error
//! counts, retired and pending-retirement pages, and the reasons clocks are held down.
//!
//! Xid events are not read: NVML delivers them only to an event set registered beforehand and
//! waited on, which a one-shot check cannot do; the kernel log (`NVRM: Xid`) holds them.

use super::{Assessment, Status};
use crate::error::Result;
use crate::gpu::{nvml, pci};
use crate::root::FsRoot;
use serde::{Deserialize, Serialize};

/// Throttle reasons that mean the hardware protects itself (not a policy or an idle GPU).
const HARDWARE_THROTTLES: [&str; 4] =
    ["HW_SLOWDOWN", "HW_THERMAL_SLOWDOWN", "HW_POWER_BRAKE_SLOWDOWN", "SW_THERMAL_SLOWDOWN"];

/// Health counters of one NVIDIA GPU; a counter NVML does not give is `None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counters {
    /// Corrected ECC errors since the driver loaded.
    pub ecc_corrected_volatile: Option<u64>,
    /// Uncorrected ECC errors since the driver loaded.
    pub ecc_uncorrected_volatile: Option<u64>,
    /// Corrected ECC errors over the GPU's life.
    pub ecc_corrected_aggregate: Option<u64>,
    /// Uncorrected ECC errors over the GPU's life.
    pub ecc_uncorrected_aggregate: Option<u64>,
    /// Pages retired after repeated single-bit errors.
    pub retired_pages_single_bit: Option<u64>,
    /// Pages retired after a double-bit error.
    pub retired_pages_double_bit: Option<u64>,
    /// Pages waiting to be retired at the next driver reload.
    pub retired_pages_pending: Option<bool>,
    /// Clock throttle reasons in effect (NVML names: `HW_SLOWDOWN`, `SW_POWER_CAP`...).
    pub throttle_reasons: Vec<String>,
}

/// Health of one NVIDIA GPU.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuHealth {
    /// PCI address (`0000:01:00.0`).
    pub pci_address: String,
    /// NUMA node of the PCI function.
    pub numa_node: Option<u32>,
    /// State and reasons.
    #[serde(flatten)]
    pub assessment: Assessment,
    /// What NVML gave, when it answered.
    pub counters: Option<Counters>,
}

impl Counters {
    /// Failing with uncorrected errors since the driver loaded, double-bit retired pages or
    /// pages pending retirement; a warning on hardware throttling or many single-bit retirements.
    pub fn assess(&self) -> Assessment {
        let mut a = Assessment::default();
        if let Some(n) = self.ecc_uncorrected_volatile.filter(|&n| n > 0) {
            a.note(Status::Failing, format!("{n} uncorrected ECC errors since the driver loaded"));
        }
        if let Some(n) = self.retired_pages_double_bit.filter(|&n| n > 0) {
            a.note(Status::Failing, format!("{n} pages retired after double-bit ECC errors"));
        }
        if self.retired_pages_pending == Some(true) {
            a.note(Status::Failing, "pages pending retirement: reset the GPU or reload the driver");
        }
        if let Some(n) = self.retired_pages_single_bit.filter(|&n| n > 0) {
            a.note(Status::Warning, format!("{n} pages retired after repeated single-bit ECC errors"));
        }
        for r in self.throttle_reasons.iter().filter(|r| HARDWARE_THROTTLES.contains(&r.as_str())) {
            a.note(Status::Warning, format!("clocks throttled: {r}"));
        }
        a
    }
}

/// Checks every NVIDIA GPU under `root`. No NVIDIA GPU: none. NVML absent or not usable (an
/// alternate root): each GPU is `unavailable` with the reason.
pub fn check(root: &FsRoot) -> Result<Vec<GpuHealth>> {
    let mut problems = Vec::new();
    let functions = pci::display_functions(root, &mut problems)?;
    let gpus: Vec<GpuHealth> = functions
        .iter()
        .filter(|f| format!("{:04x}", f.ids.vendor) == nvml::NVIDIA_VENDOR_ID)
        .map(|f| {
            let numa_node = root
                .read_opt_parsed::<i64>(&format!("{}/numa_node", f.dir))
                .and_then(|n| u32::try_from(n).ok());
            let (assessment, counters) = if !root.is_host() {
                let why = "NVML not queried under an alternate root (it sees only this machine)";
                (Assessment::not_read(Status::Unavailable, why), None)
            } else {
                match nvml::shared_handle() {
                    Err(reason) => (
                        Assessment::not_read(Status::Unavailable, format!("NVML unavailable: {reason}")),
                        None,
                    ),
                    Ok(handle) => match query(handle, &f.address) {
                        Ok(c) => (c.assess(), Some(c)),
                        Err(e) => (Assessment::not_read(Status::Unavailable, format!("NVML: {e}")), None),
                    },
                }
            };
            GpuHealth { pci_address: f.address.clone(), numa_node, assessment, counters }
        })
        .collect();
    Ok(gpus)
}

/// Asks NVML for the counters of the GPU at `pci_bus_id`. A counter the GPU does not support
/// (ECC on consumer cards) stays `None`.
fn query(nvml: &nvml_wrapper::Nvml, pci_bus_id: &str) -> std::result::Result<Counters, String> {
    use nvml_wrapper::enum_wrappers::device::{EccCounter, MemoryError, RetirementCause};
    let dev = nvml.device_by_pci_bus_id(pci_bus_id).map_err(|e| e.to_string())?;
    let ecc = |kind, counter| dev.total_ecc_errors(kind, counter).ok();
    let retired = |cause| dev.retired_pages(cause).ok().map(|p| p.len() as u64);
    Ok(Counters {
        ecc_corrected_volatile: ecc(MemoryError::Corrected, EccCounter::Volatile),
        ecc_uncorrected_volatile: ecc(MemoryError::Uncorrected, EccCounter::Volatile),
        ecc_corrected_aggregate: ecc(MemoryError::Corrected, EccCounter::Aggregate),
        ecc_uncorrected_aggregate: ecc(MemoryError::Uncorrected, EccCounter::Aggregate),
        retired_pages_single_bit: retired(RetirementCause::MultipleSingleBitEccErrors),
        retired_pages_double_bit: retired(RetirementCause::DoubleBitEccError),
        retired_pages_pending: dev.are_pages_pending_retired().ok(),
        throttle_reasons: dev
            .current_throttle_reasons()
            .map(|r| r.iter_names().map(|(name, _)| name.to_string()).collect())
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retired_pages_and_uncorrected_errors_fail() {
        let healthy = Counters { throttle_reasons: vec!["GPU_IDLE".into()], ..Counters::default() };
        assert_eq!(healthy.assess(), Assessment::default());
        let c = Counters {
            ecc_uncorrected_volatile: Some(2),
            retired_pages_double_bit: Some(1),
            throttle_reasons: vec!["HW_THERMAL_SLOWDOWN".into()],
            ..Counters::default()
        };
        let a = c.assess();
        assert_eq!(a.status, Status::Failing);
        assert_eq!(a.reasons.len(), 3, "{a:?}");
        let warm = Counters { throttle_reasons: vec!["HW_SLOWDOWN".into()], ..Counters::default() };
        assert_eq!(warm.assess().status, Status::Warning);
    }
}
