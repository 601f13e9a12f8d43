//! ATA SMART through SG_IO: SMART READ DATA (0xD0), READ THRESHOLDS (0xD1) and RETURN STATUS
//! (0xDA), each wrapped in a SCSI ATA PASS-THROUGH (16) command (SAT), which libata translates
//! for SATA disks behind AHCI and SAS HBAs.
//!
//! [`parse_attributes`], [`parse_thresholds`] and [`overall_status`] are pure functions on the
//! 512-byte structures and the returned registers; [`read`] issues the commands. Field names
//! follow `smartctl -j`'s `ata_smart_attributes`.

use super::scsi::{self, AtaRegisters};
use super::{Assessment, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io;

/// Size of the SMART data and thresholds structures.
pub const SECTOR_BYTES: usize = 512;
/// Attribute entries in each structure.
const ENTRIES: usize = 30;
/// Bytes per entry.
const ENTRY_BYTES: usize = 12;

/// Names smartctl gives the attributes it knows by default (others: `Unknown_Attribute`).
const NAMES: &[(u8, &str)] = &[
    (1, "Raw_Read_Error_Rate"),
    (2, "Throughput_Performance"),
    (3, "Spin_Up_Time"),
    (4, "Start_Stop_Count"),
    (5, "Reallocated_Sector_Ct"),
    (7, "Seek_Error_Rate"),
    (8, "Seek_Time_Performance"),
    (9, "Power_On_Hours"),
    (10, "Spin_Retry_Count"),
    (11, "Calibration_Retry_Count"),
    (12, "Power_Cycle_Count"),
    (184, "End-to-End_Error"),
    (187, "Reported_Uncorrect"),
    (188, "Command_Timeout"),
    (190, "Airflow_Temperature_Cel"),
    (191, "G-Sense_Error_Rate"),
    (192, "Power-Off_Retract_Count"),
    (193, "Load_Cycle_Count"),
    (194, "Temperature_Celsius"),
    (196, "Reallocated_Event_Count"),
    (197, "Current_Pending_Sector"),
    (198, "Offline_Uncorrectable"),
    (199, "UDMA_CRC_Error_Count"),
    (200, "Multi_Zone_Error_Rate"),
    (240, "Head_Flying_Hours"),
    (241, "Total_LBAs_Written"),
    (242, "Total_LBAs_Read"),
];

/// Attribute ids whose raw value counts bad sectors: any non-zero count deserves a warning.
const SECTOR_COUNTS: [(u8, &str); 3] =
    [(5, "reallocated sectors"), (197, "pending sectors"), (198, "offline uncorrectable sectors")];

/// One SMART attribute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    /// Attribute id.
    pub id: u8,
    /// smartctl's default name.
    pub name: String,
    /// Flags word (bit 0: pre-failure, bit 1: updated online).
    pub flags: u16,
    /// True for a pre-failure attribute: reaching its threshold predicts failure.
    pub prefailure: bool,
    /// Normalised value (higher is better).
    pub value: u8,
    /// Worst normalised value seen.
    pub worst: u8,
    /// Threshold from READ THRESHOLDS (0 = never fails); `None` when the thresholds lack this id.
    pub thresh: Option<u8>,
    /// The 48-bit raw value.
    pub raw: u64,
    /// `now` when value ≤ threshold, `past` when only worst is, `None` otherwise.
    pub when_failed: Option<String>,
}

/// SMART of one ATA disk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Smart {
    /// RETURN STATUS: `true` passed, `false` failing (LBA mid/high F4h/2Ch).
    pub passed: bool,
    /// SMART data structure revision.
    pub revision: u16,
    /// Attributes in table order.
    pub attributes: Vec<Attribute>,
    /// Temperature, °C: attribute 194's raw low byte, else 190's.
    pub temperature_celsius: Option<u64>,
    /// Power-on hours: attribute 9's raw value (low 24 bits, as smartctl's default `raw24(raw8)`).
    pub power_on_hours: Option<u64>,
    /// Power cycles: attribute 12's raw value.
    pub power_cycle_count: Option<u64>,
    /// Problems with the structures read (bad checksum), kept but not trusted blindly.
    pub notes: Vec<String>,
}

/// Why a structure could not be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SmartError {
    /// Not 512 bytes.
    #[error("ATA SMART structure of {0} bytes, expected {SECTOR_BYTES}")]
    Length(usize),
    /// RETURN STATUS answered with neither the passed (4Fh/C2h) nor the failing (F4h/2Ch) signature.
    #[error("SMART RETURN STATUS: unexpected LBA mid/high 0x{0:02x}/0x{1:02x}")]
    Signature(u8, u8),
}

/// True when the 512 bytes add up to 0 modulo 256 (the last byte is the checksum).
pub fn checksum_ok(sector: &[u8]) -> bool {
    sector.iter().fold(0u8, |s, b| s.wrapping_add(*b)) == 0
}

/// Entries of a SMART structure with a non-zero id: `(id, the 12 bytes)`.
fn entries(sector: &[u8]) -> Result<impl Iterator<Item = &[u8]>, SmartError> {
    if sector.len() != SECTOR_BYTES {
        return Err(SmartError::Length(sector.len()));
    }
    Ok(sector[2..2 + ENTRIES * ENTRY_BYTES].chunks_exact(ENTRY_BYTES).filter(|e| e[0] != 0))
}

/// Thresholds by attribute id, from READ THRESHOLDS data.
pub fn parse_thresholds(sector: &[u8]) -> Result<BTreeMap<u8, u8>, SmartError> {
    Ok(entries(sector)?.map(|e| (e[0], e[1])).collect())
}

/// Attributes from READ DATA, with their thresholds.
pub fn parse_attributes(data: &[u8], thresholds: &BTreeMap<u8, u8>) -> Result<Vec<Attribute>, SmartError> {
    Ok(entries(data)?
        .map(|e| {
            let id = e[0];
            let flags = u16::from_le_bytes([e[1], e[2]]);
            let (value, worst) = (e[3], e[4]);
            let mut raw = [0u8; 8];
            raw[..6].copy_from_slice(&e[5..11]);
            let thresh = thresholds.get(&id).copied();
            let when_failed = match thresh {
                Some(t) if t != 0 && value <= t => Some("now".to_string()),
                Some(t) if t != 0 && worst <= t => Some("past".to_string()),
                _ => None,
            };
            Attribute {
                id,
                name: NAMES
                    .iter()
                    .find(|(n, _)| *n == id)
                    .map_or("Unknown_Attribute", |(_, name)| name)
                    .into(),
                flags,
                prefailure: flags & 1 != 0,
                value,
                worst,
                thresh,
                raw: u64::from_le_bytes(raw),
                when_failed,
            }
        })
        .collect())
}

/// Overall status from the registers SMART RETURN STATUS leaves: LBA mid/high 4Fh/C2h passed,
/// F4h/2Ch threshold exceeded.
pub fn overall_status(r: &AtaRegisters) -> Result<bool, SmartError> {
    match (r.lba_mid, r.lba_high) {
        (0x4f, 0xc2) => Ok(true),
        (0xf4, 0x2c) => Ok(false),
        (mid, high) => Err(SmartError::Signature(mid, high)),
    }
}

/// Builds the report from the two structures and the overall status.
pub fn decode(passed: bool, data: &[u8], thresholds: &[u8]) -> Result<Smart, SmartError> {
    let mut notes = Vec::new();
    if !checksum_ok(data) {
        notes.push("SMART READ DATA checksum mismatch".to_string());
    }
    if !checksum_ok(thresholds) {
        notes.push("SMART READ THRESHOLDS checksum mismatch".to_string());
    }
    let attributes = parse_attributes(data, &parse_thresholds(thresholds)?)?;
    let raw = |id: u8| attributes.iter().find(|a| a.id == id).map(|a| a.raw);
    Ok(Smart {
        passed,
        revision: u16::from_le_bytes([data[0], data[1]]),
        temperature_celsius: raw(194).or_else(|| raw(190)).map(|r| r & 0xff),
        power_on_hours: raw(9).map(|r| r & 0xff_ffff),
        power_cycle_count: raw(12),
        attributes,
        notes,
    })
}

impl Smart {
    /// Failing when RETURN STATUS says so or a pre-failure attribute is at its threshold now;
    /// a warning for other attributes at their threshold and for any bad-sector count.
    pub fn assess(&self) -> Assessment {
        let mut a = Assessment::default();
        if !self.passed {
            a.note(Status::Failing, "SMART overall-health self-assessment: FAILED");
        }
        for at in &self.attributes {
            if at.when_failed.as_deref() == Some("now") {
                let state = if at.prefailure { Status::Failing } else { Status::Warning };
                a.note(
                    state,
                    format!(
                        "attribute {} {} at its threshold (value {} ≤ {})",
                        at.id,
                        at.name,
                        at.value,
                        at.thresh.unwrap_or(0)
                    ),
                );
            }
        }
        for (id, what) in SECTOR_COUNTS {
            if let Some(n) = self.attributes.iter().find(|at| at.id == id).map(|at| at.raw).filter(|&n| n > 0)
            {
                a.note(Status::Warning, format!("{n} {what}"));
            }
        }
        for n in &self.notes {
            a.note(Status::Warning, n.clone());
        }
        a
    }
}

/// SMART command feature codes.
const READ_DATA: u8 = 0xd0;
const READ_THRESHOLDS: u8 = 0xd1;
const RETURN_STATUS: u8 = 0xda;

/// ATA PASS-THROUGH (16) of a SMART command: PIO data-in of one sector when `data_in`, else
/// non-data with CK_COND so that the registers come back in the sense data.
pub fn smart_cdb(feature: u8, data_in: bool) -> [u8; 16] {
    let (protocol, flags) = if data_in {
        // PIO Data-In; T_DIR from device, BYT_BLOK blocks, T_LENGTH in the sector count.
        (4u8, 0x0e)
    } else {
        // Non-data; CK_COND.
        (3u8, 0x20)
    };
    [0x85, protocol << 1, flags, 0, feature, 0, 1, 0, 0, 0, 0x4f, 0, 0xc2, 0, 0xb0, 0]
}

/// What went wrong while asking a disk.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The device refused ATA PASS-THROUGH (not an ATA disk behind a SAT layer).
    #[error("the device refused ATA PASS-THROUGH (sense key 0x{key:x}, ASC 0x{asc:02x}, ASCQ 0x{ascq:02x})")]
    Refused {
        /// Sense key.
        key: u8,
        /// Additional sense code.
        asc: u8,
        /// Qualifier.
        ascq: u8,
    },
    /// The ioctl failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The answer could not be decoded.
    #[error("{0}")]
    Decode(#[from] SmartError),
}

/// Reads SMART from the ATA disk open as `file` (needs CAP_SYS_RAWIO).
pub fn read(file: &File) -> Result<Smart, ReadError> {
    let mut data = [0u8; SECTOR_BYTES];
    data_in(file, READ_DATA, &mut data)?;
    let mut thresholds = [0u8; SECTOR_BYTES];
    data_in(file, READ_THRESHOLDS, &mut thresholds)?;
    let done = scsi::execute(file, &smart_cdb(RETURN_STATUS, false), &mut [])?;
    let sense = scsi::parse_sense(&done.sense);
    let registers = match sense {
        Some(scsi::Sense { ata: Some(r), .. }) => r,
        Some(s) => return Err(ReadError::Refused { key: s.key, asc: s.asc, ascq: s.ascq }),
        None => return Err(io::Error::other("SMART RETURN STATUS returned no ATA registers").into()),
    };
    Ok(decode(overall_status(&registers)?, &data, &thresholds)?)
}

fn data_in(file: &File, feature: u8, buf: &mut [u8]) -> Result<(), ReadError> {
    let done = scsi::execute(file, &smart_cdb(feature, true), buf)?;
    if scsi::is_check_condition(&done) {
        let s = scsi::parse_sense(&done.sense).unwrap_or_default();
        return Err(ReadError::Refused { key: s.key, asc: s.asc, ascq: s.ascq });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_smart_with_the_key_in_lba_mid_high() {
        let c = smart_cdb(READ_DATA, true);
        assert_eq!(
            (c[0], c[1], c[2], c[4], c[6], c[10], c[12], c[14]),
            (0x85, 8, 0x0e, 0xd0, 1, 0x4f, 0xc2, 0xb0)
        );
        let s = smart_cdb(RETURN_STATUS, false);
        assert_eq!((s[1], s[2], s[4]), (6, 0x20, 0xda));
    }
}
