//! DIMMs from the SMBIOS type 17 ("Memory Device") entries the kernel exposes under
//! `/sys/firmware/dmi/entries/17-N/raw`, readable by root only.
//!
//! [`parse_memory_device`] decodes one structure (formatted area, then its string set) as the
//! SMBIOS 3.x specification lays it out, naming values as `dmidecode -t 17` does. Fields of later
//! specification versions are read only when the structure is long enough to hold them.

use crate::error::{Error, Result};
use crate::model::Dimm;
use crate::profile::Problems;
use crate::root::FsRoot;
use std::io::Read;

const ENTRIES: &str = "/sys/firmware/dmi/entries";

/// Most bytes read from one entry (a structure's formatted area is at most 255 bytes; its
/// strings at most 64 × 65).
const MAX_ENTRY_BYTES: u64 = 64 << 10;

/// Reads every type 17 entry. `None` when the host has no SMBIOS entries (no
/// `/sys/firmware/dmi`, as on many VMs) or they cannot be read (the first failure, e.g. EACCES
/// for a user that is not root, is added to `problems` with its path).
pub fn detect(root: &FsRoot, problems: &mut Problems) -> Option<Vec<Dimm>> {
    let names = match root.read_dir(ENTRIES) {
        Ok(n) => n,
        Err(e) if e.is_not_found() => return None,
        Err(e) => {
            problems.push(e);
            return None;
        }
    };
    let mut indexes: Vec<u32> = names.iter().filter_map(|n| n.strip_prefix("17-")?.parse().ok()).collect();
    indexes.sort_unstable();
    let mut dimms = Vec::with_capacity(indexes.len());
    for i in indexes {
        let path = format!("{ENTRIES}/17-{i}/raw");
        match read_raw(root, &path)
            .and_then(|raw| parse_memory_device(&raw).map_err(|m| Error::parse(&path, m)))
        {
            Ok(d) => dimms.push(d),
            Err(e @ Error::Io { .. }) => {
                // Unreadable (not root): the others are too; say it once.
                problems.push(e);
                return None;
            }
            Err(e) => problems.push(e),
        }
    }
    Some(dimms)
}

fn read_raw(root: &FsRoot, path: &str) -> Result<Vec<u8>> {
    let file = root.open(path)?;
    let mut buf = Vec::with_capacity(256);
    file.take(MAX_ENTRY_BYTES).read_to_end(&mut buf).map_err(|e| Error::io(path, e))?;
    Ok(buf)
}

/// One SMBIOS structure: its formatted area and its strings.
struct Structure<'a> {
    formatted: &'a [u8],
    strings: Vec<&'a [u8]>,
}

impl<'a> Structure<'a> {
    /// Splits raw bytes into the formatted area (`raw[1]` bytes long) and the string set that
    /// follows (NUL-terminated strings, ended by an empty one).
    fn split(raw: &'a [u8]) -> Result<Self, String> {
        let len = *raw.get(1).ok_or("shorter than a structure header")? as usize;
        if len < 4 || raw.len() < len {
            return Err(format!("structure length {len} does not fit its {} bytes", raw.len()));
        }
        let mut strings = Vec::new();
        for s in raw[len..].split(|&b| b == 0) {
            if s.is_empty() {
                break;
            }
            strings.push(s);
        }
        Ok(Structure { formatted: &raw[..len], strings })
    }

    fn byte(&self, offset: usize) -> Option<u8> {
        self.formatted.get(offset).copied()
    }

    fn word(&self, offset: usize) -> Option<u16> {
        Some(u16::from_le_bytes(self.formatted.get(offset..offset + 2)?.try_into().ok()?))
    }

    fn dword(&self, offset: usize) -> Option<u32> {
        Some(u32::from_le_bytes(self.formatted.get(offset..offset + 4)?.try_into().ok()?))
    }

    /// The string a byte at `offset` refers to (1-based; 0 = none), trimmed; `None` when
    /// there is none, it is blank, or the index is past the string set.
    fn string(&self, offset: usize) -> Option<String> {
        let index = self.byte(offset)? as usize;
        let s = self.strings.get(index.checked_sub(1)?)?;
        let text = String::from_utf8_lossy(s).trim().to_string();
        (!text.is_empty()).then_some(text)
    }
}

/// Decodes one type 17 structure (formatted area and string set, as in `17-N/raw`).
pub fn parse_memory_device(raw: &[u8]) -> Result<Dimm, String> {
    let s = Structure::split(raw)?;
    if s.byte(0) != Some(17) {
        return Err(format!("structure type {:?}, not 17 (Memory Device)", s.byte(0)));
    }
    if s.formatted.len() < 0x15 {
        return Err(format!("Memory Device of {} bytes, shorter than SMBIOS 2.1's 21", s.formatted.len()));
    }
    let size = s.word(0x0C).unwrap_or(0xFFFF);
    let size_bytes = match size {
        0 => Some(0),
        0xFFFF => None,
        0x7FFF if s.formatted.len() >= 0x20 => s.dword(0x1C).map(|mb| u64::from(mb & 0x7FFF_FFFF) << 20),
        kb if kb & 0x8000 != 0 => Some(u64::from(kb & 0x7FFF) << 10),
        mb => Some(u64::from(mb) << 20),
    };
    let speed = |word: usize, extended: usize| match s.word(word)? {
        0 => None,
        0xFFFF => s.dword(extended).map(|v| v & 0x7FFF_FFFF).filter(|&v| v != 0),
        v => Some(u32::from(v)),
    };
    let detail = s.word(0x13).unwrap_or(0);
    Ok(Dimm {
        handle: s.word(2).unwrap_or(0),
        locator: s.string(0x10),
        bank_locator: s.string(0x11),
        populated: size != 0,
        size_bytes,
        form_factor: s.byte(0x0E).and_then(form_factor).map(str::to_string),
        memory_type: s.byte(0x12).and_then(memory_type).map(str::to_string),
        type_detail: (1..16)
            .filter(|bit| detail & (1 << bit) != 0)
            .map(|bit| TYPE_DETAIL[bit - 1].to_string())
            .collect(),
        speed_mts: speed(0x15, 0x54),
        configured_speed_mts: speed(0x20, 0x58),
        manufacturer: s.string(0x17),
        serial: s.string(0x18),
        part_number: s.string(0x1A),
        rank: s.byte(0x1B).map(|a| a & 0x0F).filter(|&r| r != 0),
    })
}

/// Form factor names (SMBIOS 7.18.1), as dmidecode prints them.
fn form_factor(code: u8) -> Option<&'static str> {
    const NAMES: [&str; 16] = [
        "Other",
        "Unknown",
        "SIMM",
        "SIP",
        "Chip",
        "DIP",
        "ZIP",
        "Proprietary Card",
        "DIMM",
        "TSOP",
        "Row Of Chips",
        "RIMM",
        "SODIMM",
        "SRIMM",
        "FB-DIMM",
        "Die",
    ];
    NAMES.get(usize::from(code).checked_sub(1)?).copied()
}

/// Memory type names (SMBIOS 7.18.2), as dmidecode prints them.
fn memory_type(code: u8) -> Option<&'static str> {
    const NAMES: [&str; 36] = [
        "Other",
        "Unknown",
        "DRAM",
        "EDRAM",
        "VRAM",
        "SRAM",
        "RAM",
        "ROM",
        "Flash",
        "EEPROM",
        "FEPROM",
        "EPROM",
        "CDRAM",
        "3DRAM",
        "SDRAM",
        "SGRAM",
        "RDRAM",
        "DDR",
        "DDR2",
        "DDR2 FB-DIMM",
        "",
        "",
        "",
        "DDR3",
        "FBD2",
        "DDR4",
        "LPDDR",
        "LPDDR2",
        "LPDDR3",
        "LPDDR4",
        "Logical non-volatile device",
        "HBM",
        "HBM2",
        "DDR5",
        "LPDDR5",
        "HBM3",
    ];
    NAMES.get(usize::from(code).checked_sub(1)?).copied().filter(|n| !n.is_empty())
}

/// Type detail bits 1..=15 (SMBIOS 7.18.3), as dmidecode prints them.
const TYPE_DETAIL: [&str; 15] = [
    "Other",
    "Unknown",
    "Fast-paged",
    "Static Column",
    "Pseudo-static",
    "RAMBUS",
    "Synchronous",
    "CMOS",
    "EDO",
    "Window DRAM",
    "Cache DRAM",
    "Non-Volatile",
    "Registered (Buffered)",
    "Unbuffered (Unregistered)",
    "LRDIMM",
];

/// Hand-made type 17 structures for tests: a formatted area of `len` bytes with the given
/// fields, then the strings.
pub mod blob {
    /// Builds a type 17 structure of `len` formatted bytes: `fields` are (offset, little-endian
    /// bytes) written over zeros; `strings` follow, each NUL-terminated, then the final NUL.
    pub fn memory_device(len: u8, handle: u16, fields: &[(usize, &[u8])], strings: &[&str]) -> Vec<u8> {
        let mut raw = vec![0u8; usize::from(len)];
        raw[0] = 17;
        raw[1] = len;
        raw[2..4].copy_from_slice(&handle.to_le_bytes());
        for (offset, bytes) in fields {
            raw[*offset..offset + bytes.len()].copy_from_slice(bytes);
        }
        for s in strings {
            raw.extend_from_slice(s.as_bytes());
            raw.push(0);
        }
        if strings.is_empty() {
            raw.push(0);
        }
        raw.push(0);
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::blob::memory_device;
    use super::*;

    /// A 16 GiB DDR4 RDIMM as a SMBIOS 3.2 server reports it (length 0x54).
    fn ddr4() -> Vec<u8> {
        memory_device(
            0x54,
            0x0011,
            &[
                (0x0C, &16384u16.to_le_bytes()),
                (0x0E, &[0x09]),
                (0x10, &[1, 2]),
                (0x12, &[0x1A]),
                (0x13, &0x2080u16.to_le_bytes()),
                (0x15, &3200u16.to_le_bytes()),
                (0x17, &[3, 4, 0, 5, 0x02]),
                (0x20, &2933u16.to_le_bytes()),
            ],
            &["DIMM_A1", "P0 CHANNEL A", "Samsung", "0x1234ABCD", "M393A2K43DB3-CWE    "],
        )
    }

    #[test]
    fn ddr4_rdimm() {
        let d = parse_memory_device(&ddr4()).unwrap();
        assert_eq!(
            d,
            Dimm {
                handle: 0x11,
                locator: Some("DIMM_A1".into()),
                bank_locator: Some("P0 CHANNEL A".into()),
                populated: true,
                size_bytes: Some(16 << 30),
                form_factor: Some("DIMM".into()),
                memory_type: Some("DDR4".into()),
                type_detail: vec!["Synchronous".into(), "Registered (Buffered)".into()],
                speed_mts: Some(3200),
                configured_speed_mts: Some(2933),
                manufacturer: Some("Samsung".into()),
                serial: Some("0x1234ABCD".into()),
                part_number: Some("M393A2K43DB3-CWE".into()),
                rank: Some(2),
            }
        );
    }

    #[test]
    fn empty_slot() {
        let raw = memory_device(
            0x28,
            0x0012,
            &[(0x0C, &[0, 0]), (0x0E, &[0x02]), (0x10, &[1, 2]), (0x12, &[0x02]), (0x13, &[0, 0])],
            &["DIMM_B1", "P0 CHANNEL B"],
        );
        let d = parse_memory_device(&raw).unwrap();
        assert!(!d.populated);
        assert_eq!(d.size_bytes, Some(0));
        assert_eq!((d.locator.as_deref(), d.memory_type.as_deref()), (Some("DIMM_B1"), Some("Unknown")));
        assert_eq!((d.speed_mts, d.manufacturer, d.rank), (None, None, None));
        assert!(d.type_detail.is_empty());
    }

    #[test]
    fn extended_size_and_speeds() {
        // 0x7FFF: the size is in the extended DWORD (here 256 GiB); 0xFFFF speeds: the extended ones.
        let raw = memory_device(
            0x5C,
            1,
            &[
                (0x0C, &0x7FFFu16.to_le_bytes()),
                (0x12, &[0x22]),
                (0x15, &0xFFFFu16.to_le_bytes()),
                (0x1C, &(256u32 << 10).to_le_bytes()),
                (0x20, &0xFFFFu16.to_le_bytes()),
                (0x54, &70000u32.to_le_bytes()),
                (0x58, &68000u32.to_le_bytes()),
            ],
            &[],
        );
        let d = parse_memory_device(&raw).unwrap();
        assert_eq!(d.size_bytes, Some(256 << 30));
        assert_eq!(d.memory_type.as_deref(), Some("DDR5"));
        assert_eq!((d.speed_mts, d.configured_speed_mts), (Some(70000), Some(68000)));
        assert_eq!(d.locator, None);
    }

    #[test]
    fn unknown_kilobyte_and_old_short_structures() {
        let unknown = memory_device(0x1B, 2, &[(0x0C, &0xFFFFu16.to_le_bytes())], &[]);
        let d = parse_memory_device(&unknown).unwrap();
        assert!(d.populated);
        assert_eq!(d.size_bytes, None);
        assert_eq!(d.configured_speed_mts, None, "no such field before SMBIOS 2.7");
        let kb = memory_device(0x15, 3, &[(0x0C, &(0x8000u16 | 512).to_le_bytes())], &[]);
        assert_eq!(parse_memory_device(&kb).unwrap().size_bytes, Some(512 << 10));
        // 0x7FFF in a structure too short for the extended size: 32767 MiB, as dmidecode says.
        let short = memory_device(0x1B, 4, &[(0x0C, &0x7FFFu16.to_le_bytes())], &[]);
        assert_eq!(parse_memory_device(&short).unwrap().size_bytes, Some(0x7FFF << 20));
    }

    #[test]
    fn bad_structures_are_errors_or_absent_strings() {
        assert!(parse_memory_device(&[]).is_err());
        assert!(parse_memory_device(&[17]).is_err());
        assert!(parse_memory_device(&[17, 0x28, 0, 0]).is_err(), "length past the bytes");
        assert!(parse_memory_device(&memory_device(0x10, 1, &[], &[])).is_err(), "too short");
        let mut other = ddr4();
        other[0] = 16;
        assert!(parse_memory_device(&other).is_err());
        // A string index past the set, and a set without its final NUL.
        let raw = memory_device(0x28, 1, &[(0x10, &[7])], &["A"]);
        assert_eq!(parse_memory_device(&raw).unwrap().locator, None);
        let mut cut = memory_device(0x28, 1, &[(0x10, &[1])], &["DIMM 0"]);
        cut.truncate(cut.len() - 2);
        assert_eq!(parse_memory_device(&cut).unwrap().locator.as_deref(), Some("DIMM 0"));
    }
}
