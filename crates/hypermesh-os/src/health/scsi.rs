//! SCSI: the SG_IO ioctl that carries commands to a disk (also ATA ones, wrapped in ATA
//! PASS-THROUGH), the sense data it returns, and the Informational Exceptions log page (0x2F)
//! through which SCSI and SAS disks report their health.
//!
//! [`parse_sense`] and [`parse_ie_page`] are pure functions on bytes; [`execute`] is the ioctl.

use super::{Assessment, Status};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

/// `SG_IO` (`<scsi/sg.h>`).
const SG_IO: u64 = 0x2285;
/// `SG_DXFER_NONE`.
const DXFER_NONE: i32 = -1;
/// `SG_DXFER_FROM_DEV`.
const DXFER_FROM_DEV: i32 = -3;
/// How long the kernel waits for one command, milliseconds.
const TIMEOUT_MS: u32 = 10_000;
/// Sense buffer size (descriptor format with the ATA Status Return descriptor needs 22).
const SENSE_BYTES: usize = 64;
/// SCSI status CHECK CONDITION.
const CHECK_CONDITION: u8 = 0x02;
/// `DRIVER_SENSE`: the only driver status that is not a failure (sense data follows).
const DRIVER_SENSE: u16 = 0x08;

/// `struct sg_io_hdr` of `<scsi/sg.h>`.
#[repr(C)]
struct SgIoHdr {
    interface_id: i32,
    dxfer_direction: i32,
    cmd_len: u8,
    mx_sb_len: u8,
    iovec_count: u16,
    dxfer_len: u32,
    dxferp: *mut libc::c_void,
    cmdp: *const u8,
    sbp: *mut u8,
    timeout: u32,
    flags: u32,
    pack_id: i32,
    usr_ptr: *mut libc::c_void,
    status: u8,
    masked_status: u8,
    msg_status: u8,
    sb_len_wr: u8,
    host_status: u16,
    driver_status: u16,
    resid: i32,
    duration: u32,
    info: u32,
}

/// What a command returned besides its data.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// SCSI status byte (0 good, 2 check condition).
    pub status: u8,
    /// Sense data, as long as the device wrote it.
    pub sense: Vec<u8>,
}

/// Sends `cdb` to the disk open as `file` and reads at most `data.len()` bytes into `data`
/// (no data phase when `data` is empty). An error when the transport failed; a device that
/// refused the command answers with a check condition and sense data instead.
pub fn execute(file: &File, cdb: &[u8], data: &mut [u8]) -> io::Result<Completion> {
    let mut sense = [0u8; SENSE_BYTES];
    let mut hdr = SgIoHdr {
        interface_id: i32::from(b'S'),
        dxfer_direction: if data.is_empty() { DXFER_NONE } else { DXFER_FROM_DEV },
        cmd_len: cdb.len() as u8,
        mx_sb_len: SENSE_BYTES as u8,
        iovec_count: 0,
        dxfer_len: data.len() as u32,
        dxferp: data.as_mut_ptr().cast(),
        cmdp: cdb.as_ptr(),
        sbp: sense.as_mut_ptr(),
        timeout: TIMEOUT_MS,
        flags: 0,
        pack_id: 0,
        usr_ptr: std::ptr::null_mut(),
        status: 0,
        masked_status: 0,
        msg_status: 0,
        sb_len_wr: 0,
        host_status: 0,
        driver_status: 0,
        resid: 0,
        duration: 0,
        info: 0,
    };
    // SAFETY: `hdr` is a fully initialised `struct sg_io_hdr`; `cmdp`, `dxferp` and `sbp` point
    // to live buffers of exactly `cmd_len`, `dxfer_len` and `mx_sb_len` bytes, which the kernel
    // reads (cdb) or writes (data, sense) within those bounds. SG_IO is synchronous, so the
    // buffers outlive every access; the fd stays open for the call.
    let ret = unsafe { libc::ioctl(file.as_raw_fd(), SG_IO as _, &mut hdr as *mut SgIoHdr) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    if hdr.host_status != 0 || (hdr.driver_status & !DRIVER_SENSE) != 0 {
        return Err(io::Error::other(format!(
            "SG_IO transport error (host status 0x{:x}, driver status 0x{:x})",
            hdr.host_status, hdr.driver_status
        )));
    }
    let written = usize::from(hdr.sb_len_wr).min(SENSE_BYTES);
    Ok(Completion { status: hdr.status, sense: sense[..written].to_vec() })
}

/// Decoded sense data: the key, the additional sense code and qualifier, and the ATA registers
/// an ATA PASS-THROUGH command returns with CK_COND.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sense {
    /// Sense key (5 = illegal request, 1 = recovered error...).
    pub key: u8,
    /// Additional sense code.
    pub asc: u8,
    /// Additional sense code qualifier.
    pub ascq: u8,
    /// ATA output registers, when the sense data carries them.
    pub ata: Option<AtaRegisters>,
}

/// ATA output registers (28-bit view) returned by ATA PASS-THROUGH.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AtaRegisters {
    /// Error register.
    pub error: u8,
    /// Sector count (7:0).
    pub count: u8,
    /// LBA (7:0).
    pub lba_low: u8,
    /// LBA (15:8).
    pub lba_mid: u8,
    /// LBA (23:16).
    pub lba_high: u8,
    /// Device register.
    pub device: u8,
    /// Status register.
    pub status: u8,
}

/// Decodes sense data in descriptor format (0x72/0x73, with the ATA Status Return descriptor
/// 0x09 when present) or fixed format (0x70/0x71, where SAT puts error, status, device and count in the
/// INFORMATION field and LBA low, mid, high in bytes 9–11). `None` for anything else or too short.
pub fn parse_sense(sense: &[u8]) -> Option<Sense> {
    let code = sense.first()? & 0x7f;
    match code {
        0x72 | 0x73 => {
            let header = sense.get(..8)?;
            let mut out = Sense { key: header[1] & 0x0f, asc: header[2], ascq: header[3], ata: None };
            let end = (8 + usize::from(header[7])).min(sense.len());
            let mut at = 8;
            while at + 2 <= end {
                let (kind, len) = (sense[at], usize::from(sense[at + 1]));
                let body = sense.get(at + 2..(at + 2 + len).min(end)).unwrap_or(&[]);
                if kind == 0x09 && body.len() >= 12 {
                    out.ata = Some(AtaRegisters {
                        error: body[1],
                        count: body[3],
                        lba_low: body[5],
                        lba_mid: body[7],
                        lba_high: body[9],
                        device: body[10],
                        status: body[11],
                    });
                }
                at += 2 + len;
            }
            Some(out)
        }
        0x70 | 0x71 => {
            let s = sense.get(..14)?;
            let mut out = Sense { key: s[2] & 0x0f, asc: s[12], ascq: s[13], ata: None };
            // ASC/ASCQ 00/1D: "ATA pass through information available".
            if out.asc == 0x00 && out.ascq == 0x1d {
                out.ata = Some(AtaRegisters {
                    error: s[3],
                    status: s[4],
                    device: s[5],
                    count: s[6],
                    lba_low: s[9],
                    lba_mid: s[10],
                    lba_high: s[11],
                });
            }
            Some(out)
        }
        _ => None,
    }
}

/// Informational Exceptions log page (0x2F), general parameter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InformationalExceptions {
    /// Additional sense code of the latest informational exception (0 = none: healthy).
    pub ie_asc: u8,
    /// Its qualifier.
    pub ie_ascq: u8,
    /// Most recent temperature reading, °C, when the device gives one (255 = none).
    pub temperature_celsius: Option<u8>,
}

/// Why a log page could not be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PageError {
    /// Shorter than its header, or than the parameter it announces.
    #[error("SCSI log page truncated ({0} bytes)")]
    Truncated(usize),
    /// Another page came back.
    #[error("SCSI log page 0x{0:02x} returned, 0x2f asked for")]
    WrongPage(u8),
    /// The page lacks parameter 0000h.
    #[error("Informational Exceptions page has no general parameter")]
    NoGeneralParameter,
}

/// Decodes the Informational Exceptions log page (SPC: header of 4 bytes, then parameters of
/// code (2), control (1), length (1) and data; parameter 0000h holds ASC, ASCQ, temperature).
pub fn parse_ie_page(page: &[u8]) -> Result<InformationalExceptions, PageError> {
    let header = page.get(..4).ok_or(PageError::Truncated(page.len()))?;
    if header[0] & 0x3f != 0x2f {
        return Err(PageError::WrongPage(header[0] & 0x3f));
    }
    let end = (4 + usize::from(u16::from_be_bytes([header[2], header[3]]))).min(page.len());
    let mut at = 4;
    while at + 4 <= end {
        let code = u16::from_be_bytes([page[at], page[at + 1]]);
        let len = usize::from(page[at + 3]);
        if code == 0 {
            let data = page.get(at + 4..at + 4 + len).ok_or(PageError::Truncated(page.len()))?;
            if data.len() < 2 {
                return Err(PageError::Truncated(page.len()));
            }
            return Ok(InformationalExceptions {
                ie_asc: data[0],
                ie_ascq: data[1],
                temperature_celsius: data.get(2).copied().filter(|&t| t != 0xff),
            });
        }
        at += 4 + len;
    }
    Err(PageError::NoGeneralParameter)
}

impl InformationalExceptions {
    /// Failing when the device reports an informational exception (ASC 5Dh is "failure
    /// prediction threshold exceeded"; any non-zero ASC is an exception).
    pub fn assess(&self) -> Assessment {
        let mut a = Assessment::default();
        if self.ie_asc != 0 {
            let what =
                if self.ie_asc == 0x5d { "failure prediction threshold exceeded" } else { "exception" };
            a.note(
                Status::Failing,
                format!(
                    "informational exception: {what} (ASC 0x{:02x}, ASCQ 0x{:02x})",
                    self.ie_asc, self.ie_ascq
                ),
            );
        }
        a
    }
}

/// LOG SENSE (10) of the cumulative values of `page`, at most `len` bytes.
pub fn log_sense_cdb(page: u8, len: u16) -> [u8; 10] {
    let [hi, lo] = len.to_be_bytes();
    [0x4d, 0, 0x40 | (page & 0x3f), 0, 0, 0, 0, hi, lo, 0]
}

/// Reads the Informational Exceptions page of the SCSI disk open as `file`. `Ok(None)` when the
/// device does not support the page (ILLEGAL REQUEST).
pub fn read_ie(file: &File) -> io::Result<Option<Vec<u8>>> {
    let mut page = vec![0u8; 252];
    let done = execute(file, &log_sense_cdb(0x2f, page.len() as u16), &mut page)?;
    if done.status == CHECK_CONDITION {
        return match parse_sense(&done.sense) {
            Some(s) if s.key == 0x05 => Ok(None),
            Some(s) => Err(io::Error::other(format!(
                "LOG SENSE failed: sense key 0x{:x}, ASC 0x{:02x}, ASCQ 0x{:02x}",
                s.key, s.asc, s.ascq
            ))),
            None => Err(io::Error::other("LOG SENSE failed without sense data")),
        };
    }
    if done.status != 0 {
        return Err(io::Error::other(format!("LOG SENSE: SCSI status 0x{:02x}", done.status)));
    }
    Ok(Some(page))
}

/// True when a completion is a check condition.
pub fn is_check_condition(c: &Completion) -> bool {
    c.status == CHECK_CONDITION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout_matches_the_kernel() {
        assert_eq!(size_of::<SgIoHdr>(), 88);
    }

    #[test]
    fn descriptor_sense_with_ata_status_return() {
        let mut s = vec![0x72, 0x01, 0x00, 0x1d, 0, 0, 0, 14];
        s.extend([0x09, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xf4, 0x00, 0x2c, 0xa0, 0x50]);
        let sense = parse_sense(&s).unwrap();
        assert_eq!((sense.key, sense.asc, sense.ascq), (1, 0, 0x1d));
        let r = sense.ata.unwrap();
        assert_eq!((r.lba_mid, r.lba_high, r.status, r.count), (0xf4, 0x2c, 0x50, 1));
    }

    #[test]
    fn fixed_sense_with_ata_registers() {
        let mut s = [0u8; 18];
        s[0] = 0x70;
        s[2] = 0x01;
        s[3] = 0x00; // error
        s[4] = 0x50; // status
        s[9] = 0x00; // lba low
        s[10] = 0x4f; // lba mid
        s[11] = 0xc2; // lba high
        s[12] = 0x00;
        s[13] = 0x1d;
        let r = parse_sense(&s).unwrap().ata.unwrap();
        assert_eq!((r.lba_mid, r.lba_high, r.status), (0x4f, 0xc2, 0x50));
        assert_eq!(parse_sense(&[0x70, 0, 5]), None, "truncated");
        assert_eq!(parse_sense(&[0x12; 20]), None, "unknown response code");
    }

    #[test]
    fn ie_page_healthy_and_failing() {
        let page = [0x2f, 0, 0, 8, 0, 0, 0x03, 4, 0x00, 0x00, 38, 0];
        let ie = parse_ie_page(&page).unwrap();
        assert_eq!((ie.ie_asc, ie.temperature_celsius), (0, Some(38)));
        assert_eq!(ie.assess().status, Status::Ok);
        let failing = [0x2f, 0, 0, 8, 0, 0, 0x03, 4, 0x5d, 0x10, 0xff, 0];
        let ie = parse_ie_page(&failing).unwrap();
        assert_eq!(ie.temperature_celsius, None);
        let a = ie.assess();
        assert_eq!(a.status, Status::Failing);
        assert!(a.reasons[0].contains("failure prediction threshold exceeded"), "{a:?}");
        assert_eq!(parse_ie_page(&[0x0d, 0, 0, 0]), Err(PageError::WrongPage(0x0d)));
        assert_eq!(parse_ie_page(&[0x2f, 0, 0, 8, 0, 1, 0, 0]), Err(PageError::NoGeneralParameter));
        assert!(parse_ie_page(&[0x2f, 0, 0, 8, 0, 0, 0, 4, 0]).is_err());
    }
}
