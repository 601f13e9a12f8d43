//! NVMe SMART / Health Information log page (log identifier 0x02), read with a Get Log Page
//! admin command through the kernel's passthrough ioctl on the controller's character device.
//!
//! [`parse`] decodes the 512-byte page (NVMe Base Specification, "SMART / Health Information");
//! [`read_log`] fetches it. Field names follow `smartctl -j`'s `nvme_smart_health_information_log`.

use super::{Assessment, Status};
use serde::{Deserialize, Serialize};
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Size of the SMART / health log page.
pub const LOG_BYTES: usize = 512;

/// Meaning of each bit of the Critical Warning byte, lowest first.
const CRITICAL_WARNING_BITS: [&str; 6] = [
    "available spare below threshold",
    "temperature outside its thresholds",
    "reliability degraded by media or internal errors",
    "media placed in read-only mode",
    "volatile memory backup device failed",
    "persistent memory region read-only or unreliable",
];

/// The SMART / health log, decoded. 128-bit counters saturate at `u64::MAX` (2^64 data units
/// are 9.4 ZB; no device reaches it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthLog {
    /// Critical Warning byte as read (0 = none).
    pub critical_warning: u8,
    /// The set bits of `critical_warning`, spelled out.
    pub critical_warnings: Vec<String>,
    /// Composite temperature, kelvin.
    pub temperature_kelvin: u16,
    /// Composite temperature, °C (kelvin − 273, as the specification and smartctl convert).
    pub temperature_celsius: i32,
    /// Remaining spare capacity, percent.
    pub available_spare: u8,
    /// Spare below which the controller warns, percent.
    pub available_spare_threshold: u8,
    /// Share of the rated endurance used, percent (may exceed 100).
    pub percentage_used: u8,
    /// Data read, in units of 1000 × 512 bytes.
    pub data_units_read: u64,
    /// Data written, in units of 1000 × 512 bytes.
    pub data_units_written: u64,
    /// Read commands completed.
    pub host_reads: u64,
    /// Write commands completed.
    pub host_writes: u64,
    /// Time busy with I/O, minutes.
    pub controller_busy_time: u64,
    /// Power cycles.
    pub power_cycles: u64,
    /// Power-on hours.
    pub power_on_hours: u64,
    /// Shutdowns without a shutdown notification.
    pub unsafe_shutdowns: u64,
    /// Unrecovered data integrity errors.
    pub media_errors: u64,
    /// Error information log entries over the controller's life.
    pub num_err_log_entries: u64,
    /// Minutes above the warning composite temperature threshold.
    pub warning_temp_time: u32,
    /// Minutes above the critical composite temperature threshold.
    pub critical_comp_time: u32,
    /// Temperature sensors 1–8 that report, °C (kelvin − 273).
    pub temperature_sensors: Vec<i32>,
}

/// The page is shorter than [`LOG_BYTES`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("NVMe health log: {0} bytes, expected {LOG_BYTES}")]
pub struct ShortLog(pub usize);

/// Decodes a SMART / health log page (little-endian fields at the specification's offsets).
pub fn parse(page: &[u8]) -> Result<HealthLog, ShortLog> {
    if page.len() < LOG_BYTES {
        return Err(ShortLog(page.len()));
    }
    let u16_at = |o: usize| u16::from_le_bytes([page[o], page[o + 1]]);
    let u32_at = |o: usize| u32::from_le_bytes([page[o], page[o + 1], page[o + 2], page[o + 3]]);
    let u128_at = |o: usize| {
        let mut b = [0u8; 16];
        b.copy_from_slice(&page[o..o + 16]);
        u64::try_from(u128::from_le_bytes(b)).unwrap_or(u64::MAX)
    };
    let critical_warning = page[0];
    let temperature_kelvin = u16_at(1);
    Ok(HealthLog {
        critical_warning,
        critical_warnings: CRITICAL_WARNING_BITS
            .iter()
            .enumerate()
            .filter(|(bit, _)| critical_warning & (1 << bit) != 0)
            .map(|(_, what)| what.to_string())
            .collect(),
        temperature_kelvin,
        temperature_celsius: i32::from(temperature_kelvin) - 273,
        available_spare: page[3],
        available_spare_threshold: page[4],
        percentage_used: page[5],
        data_units_read: u128_at(32),
        data_units_written: u128_at(48),
        host_reads: u128_at(64),
        host_writes: u128_at(80),
        controller_busy_time: u128_at(96),
        power_cycles: u128_at(112),
        power_on_hours: u128_at(128),
        unsafe_shutdowns: u128_at(144),
        media_errors: u128_at(160),
        num_err_log_entries: u128_at(176),
        warning_temp_time: u32_at(192),
        critical_comp_time: u32_at(196),
        temperature_sensors: (0..8)
            .map(|i| u16_at(200 + 2 * i))
            .filter(|&k| k != 0)
            .map(|k| i32::from(k) - 273)
            .collect(),
    })
}

impl HealthLog {
    /// Failing on any critical warning bit or spare below its threshold; a warning on media
    /// errors or the rated endurance used up.
    pub fn assess(&self) -> Assessment {
        let mut a = Assessment::default();
        for w in &self.critical_warnings {
            a.note(Status::Failing, format!("critical warning: {w}"));
        }
        if self.critical_warning & 0xc0 != 0 {
            a.note(
                Status::Failing,
                format!("critical warning 0x{:02x} (reserved bits set)", self.critical_warning),
            );
        }
        if self.available_spare < self.available_spare_threshold {
            a.note(
                Status::Failing,
                format!(
                    "available spare {} % below its threshold {} %",
                    self.available_spare, self.available_spare_threshold
                ),
            );
        }
        if self.media_errors > 0 {
            a.note(Status::Warning, format!("{} media and data integrity errors", self.media_errors));
        }
        if self.percentage_used >= 100 {
            a.note(Status::Warning, format!("{} % of the rated endurance used", self.percentage_used));
        }
        a
    }
}

/// `struct nvme_passthru_cmd` of `<linux/nvme_ioctl.h>` (72 bytes).
#[repr(C)]
#[derive(Default)]
struct PassthruCmd {
    opcode: u8,
    flags: u8,
    rsvd1: u16,
    nsid: u32,
    cdw2: u32,
    cdw3: u32,
    metadata: u64,
    addr: u64,
    metadata_len: u32,
    data_len: u32,
    cdw10: u32,
    cdw11: u32,
    cdw12: u32,
    cdw13: u32,
    cdw14: u32,
    cdw15: u32,
    timeout_ms: u32,
    result: u32,
}

/// `NVME_IOCTL_ADMIN_CMD`: `_IOWR('N', 0x41, struct nvme_admin_cmd)`.
const NVME_IOCTL_ADMIN_CMD: u64 = (3 << 30) | ((size_of::<PassthruCmd>() as u64) << 16) | (0x4e << 8) | 0x41;
/// Get Log Page admin opcode.
const GET_LOG_PAGE: u8 = 0x02;
/// SMART / Health Information log identifier.
const SMART_LOG: u32 = 0x02;
/// The controller-wide log (not one namespace's).
const ALL_NAMESPACES: u32 = 0xffff_ffff;

/// Reads the SMART / health log page of the controller whose character device is `dev`
/// (`/dev/nvme0`). Needs CAP_SYS_ADMIN: the kernel lets unprivileged callers send only Identify.
pub fn read_log(dev: &Path) -> io::Result<[u8; LOG_BYTES]> {
    let file = std::fs::OpenOptions::new().read(true).open(dev)?;
    let mut page = [0u8; LOG_BYTES];
    // Number of dwords minus one, low half in CDW10 bits 31:16 (512 bytes: 127).
    let numdl = (LOG_BYTES / 4 - 1) as u32;
    let mut cmd = PassthruCmd {
        opcode: GET_LOG_PAGE,
        nsid: ALL_NAMESPACES,
        addr: page.as_mut_ptr() as u64,
        data_len: LOG_BYTES as u32,
        cdw10: (numdl << 16) | SMART_LOG,
        ..PassthruCmd::default()
    };
    // SAFETY: `cmd` is a fully initialised `struct nvme_passthru_cmd` whose `addr`/`data_len`
    // describe `page`, a live 512-byte buffer the kernel writes at most `data_len` bytes into;
    // both outlive the call, which is synchronous. The fd is open for the duration.
    let ret =
        unsafe { libc::ioctl(file.as_raw_fd(), NVME_IOCTL_ADMIN_CMD as _, &mut cmd as *mut PassthruCmd) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    if ret > 0 {
        // A positive return is the NVMe status field: the controller refused the command.
        return Err(io::Error::other(format!("controller returned NVMe status 0x{ret:x}")));
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_number_matches_the_kernel_header() {
        assert_eq!(size_of::<PassthruCmd>(), 72);
        assert_eq!(NVME_IOCTL_ADMIN_CMD, 0xc048_4e41);
    }
}
