//! The raw health structures decoded from hand-made bytes: NVMe SMART / health log pages and
//! ATA SMART data + thresholds of healthy and failing disks.
#![cfg(native_linux)]

use hypermesh_os::health::Status;
use hypermesh_os::health::ata;
use hypermesh_os::health::nvme;
use hypermesh_os::health::scsi::{self, AtaRegisters};

/// An NVMe health log with the given critical warning, spare, threshold and counters.
fn nvme_page(warning: u8, spare: u8, threshold: u8) -> [u8; 512] {
    let mut p = [0u8; 512];
    p[0] = warning;
    p[1..3].copy_from_slice(&310u16.to_le_bytes()); // 37 °C
    p[3] = spare;
    p[4] = threshold;
    p[5] = 7; // percentage used
    p[32..48].copy_from_slice(&123_456u128.to_le_bytes());
    p[48..64].copy_from_slice(&654_321u128.to_le_bytes());
    p[64..80].copy_from_slice(&1_000u128.to_le_bytes());
    p[80..96].copy_from_slice(&2_000u128.to_le_bytes());
    p[96..112].copy_from_slice(&55u128.to_le_bytes());
    p[112..128].copy_from_slice(&42u128.to_le_bytes());
    p[128..144].copy_from_slice(&8_766u128.to_le_bytes());
    p[144..160].copy_from_slice(&3u128.to_le_bytes());
    p[176..192].copy_from_slice(&12u128.to_le_bytes());
    p[192..196].copy_from_slice(&4u32.to_le_bytes());
    p[196..200].copy_from_slice(&1u32.to_le_bytes());
    p[200..202].copy_from_slice(&305u16.to_le_bytes());
    p[202..204].copy_from_slice(&320u16.to_le_bytes());
    p
}

#[test]
fn nvme_healthy_log_every_field() {
    let log = nvme::parse(&nvme_page(0, 100, 10)).unwrap();
    assert_eq!(log.critical_warning, 0);
    assert!(log.critical_warnings.is_empty());
    assert_eq!((log.temperature_kelvin, log.temperature_celsius), (310, 37));
    assert_eq!((log.available_spare, log.available_spare_threshold, log.percentage_used), (100, 10, 7));
    assert_eq!((log.data_units_read, log.data_units_written), (123_456, 654_321));
    assert_eq!((log.host_reads, log.host_writes), (1_000, 2_000));
    assert_eq!(log.controller_busy_time, 55);
    assert_eq!(log.power_cycles, 42);
    assert_eq!(log.power_on_hours, 8_766);
    assert_eq!(log.unsafe_shutdowns, 3);
    assert_eq!(log.media_errors, 0);
    assert_eq!(log.num_err_log_entries, 12);
    assert_eq!((log.warning_temp_time, log.critical_comp_time), (4, 1));
    assert_eq!(log.temperature_sensors, [32, 47]);
    assert_eq!(log.assess().status, Status::Ok);
}

#[test]
fn nvme_critical_warning_bits_fail() {
    let log = nvme::parse(&nvme_page(0b0000_1100, 100, 10)).unwrap();
    assert_eq!(
        log.critical_warnings,
        ["reliability degraded by media or internal errors", "media placed in read-only mode"]
    );
    let a = log.assess();
    assert_eq!(a.status, Status::Failing);
    assert_eq!(a.reasons.len(), 2, "{a:?}");
    assert!(a.reasons[1].contains("read-only"), "{a:?}");
}

#[test]
fn nvme_spare_below_threshold_fails() {
    // The controller also sets bit 0 in this case; the threshold check stands on its own.
    let log = nvme::parse(&nvme_page(0x01, 5, 10)).unwrap();
    let a = log.assess();
    assert_eq!(a.status, Status::Failing);
    assert!(a.reasons.iter().any(|r| r == "available spare 5 % below its threshold 10 %"), "{a:?}");
    assert!(a.reasons.iter().any(|r| r.contains("available spare below threshold")), "{a:?}");
    let spare_only = nvme::parse(&nvme_page(0, 9, 10)).unwrap();
    assert_eq!(spare_only.assess().status, Status::Failing);
}

#[test]
fn nvme_media_errors_warn_and_huge_counters_saturate() {
    let mut p = nvme_page(0, 100, 10);
    p[160..176].copy_from_slice(&9u128.to_le_bytes());
    p[32..48].copy_from_slice(&u128::MAX.to_le_bytes());
    let log = nvme::parse(&p).unwrap();
    assert_eq!(log.data_units_read, u64::MAX);
    let a = log.assess();
    assert_eq!(a.status, Status::Warning);
    assert_eq!(a.reasons, ["9 media and data integrity errors"]);
    assert_eq!(nvme::parse(&p[..511]), Err(nvme::ShortLog(511)));
}

/// Sets the last byte so that the sector sums to 0 modulo 256.
fn seal(mut s: [u8; 512]) -> [u8; 512] {
    s[511] = 0;
    let sum = s.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    s[511] = sum.wrapping_neg();
    s
}

/// SMART data with `(id, flags, value, worst, raw)` entries, and thresholds `(id, threshold)`.
fn smart(attrs: &[(u8, u16, u8, u8, u64)], thresholds: &[(u8, u8)]) -> ([u8; 512], [u8; 512]) {
    let mut data = [0u8; 512];
    data[0] = 0x10;
    for (i, &(id, flags, value, worst, raw)) in attrs.iter().enumerate() {
        let e = &mut data[2 + 12 * i..2 + 12 * (i + 1)];
        e[0] = id;
        e[1..3].copy_from_slice(&flags.to_le_bytes());
        e[3] = value;
        e[4] = worst;
        e[5..11].copy_from_slice(&raw.to_le_bytes()[..6]);
    }
    let mut thr = [0u8; 512];
    thr[0] = 0x10;
    for (i, &(id, t)) in thresholds.iter().enumerate() {
        thr[2 + 12 * i] = id;
        thr[3 + 12 * i] = t;
    }
    (seal(data), seal(thr))
}

/// A healthy HDD as QEMU and many real disks report it.
const HEALTHY: &[(u8, u16, u8, u8, u64)] = &[
    (1, 0x0003, 100, 100, 0),
    (5, 0x0033, 100, 100, 0),
    (9, 0x0032, 99, 99, 0x0500_0000_1234),
    (12, 0x0032, 100, 100, 77),
    (194, 0x0022, 64, 50, 0x0014_0028_0024),
    (197, 0x0012, 100, 100, 0),
    (198, 0x0010, 100, 100, 0),
];
const THRESHOLDS: &[(u8, u8)] = &[(1, 6), (5, 36), (9, 0), (12, 0), (194, 0), (197, 0), (198, 0)];

#[test]
fn ata_healthy_disk() {
    let (data, thr) = smart(HEALTHY, THRESHOLDS);
    let s = ata::decode(true, &data, &thr).unwrap();
    assert_eq!(s.revision, 0x10);
    assert_eq!(s.attributes.len(), 7);
    let a5 = &s.attributes[1];
    assert_eq!(
        (a5.id, a5.name.as_str(), a5.prefailure, a5.value, a5.worst, a5.thresh),
        (5, "Reallocated_Sector_Ct", true, 100, 100, Some(36))
    );
    assert_eq!(s.attributes[2].raw, 0x0500_0000_1234);
    assert_eq!(s.power_on_hours, Some(0x1234), "raw24: the low three bytes");
    assert_eq!(s.power_cycle_count, Some(77));
    assert_eq!(s.temperature_celsius, Some(0x24), "attribute 194's low byte");
    assert!(s.notes.is_empty());
    assert_eq!(s.assess().status, Status::Ok);
}

#[test]
fn ata_reallocated_sectors_over_threshold_fail() {
    let mut attrs = HEALTHY.to_vec();
    attrs[1] = (5, 0x0033, 30, 30, 1_800);
    let (data, thr) = smart(&attrs, THRESHOLDS);
    let s = ata::decode(true, &data, &thr).unwrap();
    let a5 = s.attributes.iter().find(|a| a.id == 5).unwrap();
    assert_eq!(a5.when_failed.as_deref(), Some("now"));
    let a = s.assess();
    assert_eq!(a.status, Status::Failing);
    assert!(
        a.reasons.iter().any(|r| r == "attribute 5 Reallocated_Sector_Ct at its threshold (value 30 ≤ 36)"),
        "{a:?}"
    );
    assert!(a.reasons.iter().any(|r| r == "1800 reallocated sectors"), "{a:?}");
}

#[test]
fn ata_pending_sectors_warn_and_past_failures_are_marked() {
    let mut attrs = HEALTHY.to_vec();
    attrs[5] = (197, 0x0012, 100, 100, 8);
    attrs[0] = (1, 0x0003, 100, 5, 0); // worst went below threshold once
    let (data, thr) = smart(&attrs, THRESHOLDS);
    let s = ata::decode(true, &data, &thr).unwrap();
    assert_eq!(s.attributes[0].when_failed.as_deref(), Some("past"));
    let a = s.assess();
    assert_eq!(a.status, Status::Warning);
    assert_eq!(a.reasons, ["8 pending sectors"]);
}

#[test]
fn ata_return_status_failing_signature() {
    let failing = AtaRegisters { lba_mid: 0xf4, lba_high: 0x2c, status: 0x50, ..AtaRegisters::default() };
    let passed = AtaRegisters { lba_mid: 0x4f, lba_high: 0xc2, ..AtaRegisters::default() };
    assert_eq!(ata::overall_status(&failing), Ok(false));
    assert_eq!(ata::overall_status(&passed), Ok(true));
    assert_eq!(ata::overall_status(&AtaRegisters::default()), Err(ata::SmartError::Signature(0, 0)));
    // The same registers as the kernel returns them in descriptor-format sense data.
    let mut sense = vec![0x72, 0x01, 0x00, 0x1d, 0, 0, 0, 14];
    sense.extend([0x09, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0xf4, 0, 0x2c, 0, 0x50]);
    let registers = scsi::parse_sense(&sense).unwrap().ata.unwrap();
    let (data, thr) = smart(HEALTHY, THRESHOLDS);
    let s = ata::decode(ata::overall_status(&registers).unwrap(), &data, &thr).unwrap();
    let a = s.assess();
    assert_eq!(a.status, Status::Failing);
    assert_eq!(a.reasons, ["SMART overall-health self-assessment: FAILED"]);
}

#[test]
fn ata_bad_checksum_and_wrong_length() {
    let (mut data, thr) = smart(HEALTHY, THRESHOLDS);
    data[511] ^= 0xff;
    let s = ata::decode(true, &data, &thr).unwrap();
    assert_eq!(s.notes, ["SMART READ DATA checksum mismatch"]);
    assert_eq!(s.assess().status, Status::Warning);
    assert_eq!(ata::decode(true, &data[..100], &thr), Err(ata::SmartError::Length(100)));
    assert_eq!(ata::parse_thresholds(&[]), Err(ata::SmartError::Length(0)));
}

proptest::proptest! {
    /// Whatever a device or a broken driver returns, decoding never panics.
    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
        let _ = nvme::parse(&bytes);
        let _ = scsi::parse_sense(&bytes);
        let _ = scsi::parse_ie_page(&bytes);
        let _ = ata::parse_thresholds(&bytes);
        if bytes.len() >= 512 {
            let _ = ata::decode(bytes[0] & 1 == 1, &bytes[..512], &bytes[bytes.len() - 512..]).map(|s| s.assess());
            let _ = nvme::parse(&bytes).map(|l| l.assess());
        }
    }
}
