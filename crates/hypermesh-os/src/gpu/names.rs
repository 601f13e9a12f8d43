//! Vendor and model names from pci.ids: the copy built in from the `pci-ids` crate first (no I/O;
//! `build.rs` turns it into the tables of [`built_in`]), then the host's own file for ids the built-in copy does not know (hardware newer than the
//! crate). The host file is 1.3 MB: reading and scanning it costs about 5 ms here, ten times the
//! whole detection budget, so it is read only when a name is missing, and at most once.

use crate::root::FsRoot;
use std::cell::OnceCell;

/// Where distributions install pci.ids (Fedora/Arch `hwdata`, Debian `pci.ids`).
const SYSTEM_FILES: [&str; 2] = ["/usr/share/hwdata/pci.ids", "/usr/share/misc/pci.ids"];

/// A pci.ids database: the built-in one, with the host's file (read on first need) behind it.
#[derive(Debug, Default)]
pub struct PciNames<'a> {
    root: Option<&'a FsRoot>,
    system: OnceCell<Option<String>>,
}

impl<'a> PciNames<'a> {
    /// Names for devices under `root`; its pci.ids is read only if the built-in one lacks a name.
    pub fn new(root: &'a FsRoot) -> Self {
        PciNames { root: Some(root), system: OnceCell::new() }
    }

    /// A database backed by the given pci.ids text instead of a file (tests).
    pub fn with_text(text: impl Into<String>) -> Self {
        PciNames { root: None, system: OnceCell::from(Some(text.into())) }
    }

    /// Vendor name of `vendor`.
    pub fn vendor(&self, vendor: u16) -> Option<String> {
        if let Some(name) = built_in::vendor(vendor) {
            return Some(name.to_string());
        }
        vendor_section(self.system()?, vendor).map(|(name, _)| name.to_string())
    }

    /// Device (model) name of `vendor:device`.
    pub fn device(&self, vendor: u16, device: u16) -> Option<String> {
        if let Some(name) = built_in::device(vendor, device) {
            return Some(name.to_string());
        }
        let (_, body) = vendor_section(self.system()?, vendor)?;
        let prefix = format!("{device:04x} ");
        body.lines().find_map(|l| l.strip_prefix('\t')?.strip_prefix(&prefix)).map(|n| n.trim().to_string())
    }

    fn system(&self) -> Option<&str> {
        self.system
            .get_or_init(|| {
                let root = self.root?;
                SYSTEM_FILES.iter().find_map(|p| root.read_string(p).ok())
            })
            .as_deref()
    }
}

/// The database built in at compile time: names in one text blob, one per line, and sorted
/// tables of little-endian `(id, offset of the name)` u32 pairs.
mod built_in {
    static NAMES: &str = include_str!(concat!(env!("OUT_DIR"), "/pci_names.txt"));
    static VENDORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/pci_vendors.bin"));
    static DEVICES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/pci_devices.bin"));

    /// Name of a vendor.
    pub(super) fn vendor(vendor: u16) -> Option<&'static str> {
        find(VENDORS, u32::from(vendor))
    }

    /// Name of a device.
    pub(super) fn device(vendor: u16, device: u16) -> Option<&'static str> {
        find(DEVICES, u32::from(vendor) << 16 | u32::from(device))
    }

    /// Binary search of `key` in a table; the name at its offset.
    fn find(table: &'static [u8], key: u32) -> Option<&'static str> {
        let word = |i: usize| u32::from_le_bytes([table[i], table[i + 1], table[i + 2], table[i + 3]]);
        let records = table.len() / 8;
        let (mut low, mut high) = (0, records);
        while low < high {
            let mid = (low + high) / 2;
            match word(mid * 8).cmp(&key) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => {
                    let name = NAMES.get(word(mid * 8 + 4) as usize..)?;
                    return name.split('\n').next();
                }
            }
        }
        None
    }
}

/// The name of `vendor` in a pci.ids text and the lines of its devices that follow it.
fn vendor_section(text: &str, vendor: u16) -> Option<(&str, &str)> {
    let key = format!("\n{vendor:04x} ");
    let start = text.find(&key)? + key.len();
    let rest = &text[start..];
    let (name, body) = rest.split_once('\n').unwrap_or((rest, ""));
    // The section ends at the next line that does not start with a tab or a comment.
    let end = body
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .find(|&i| body[i..].chars().next().is_some_and(|c| c != '\t' && c != '#'))
        .unwrap_or(body.len());
    Some((name.trim(), &body[..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids the built-in database lacks (checked below), as a newer pci.ids would list them.
    const TEXT: &str = "# comment\n10de  NVIDIA Corporation\n\t2330  Renamed H100\n\
                        \t\t10de 16c1  H100 SXM5 80GB\n# inner comment\n\tfffe  Future GPU\n\
                        0b0d  Future Vendor\n\tfffe  Not NVIDIA\nC 03  Display controller\n";

    #[test]
    fn built_in_first() {
        let names = PciNames::with_text(TEXT);
        assert_eq!(names.vendor(0x10de).as_deref(), Some("NVIDIA Corporation"));
        assert_eq!(names.device(0x10de, 0x2330).as_deref(), Some("GH100 [H100 SXM5 80GB]"));
        assert_eq!(names.device(0x8086, 0x5917).as_deref(), Some("UHD Graphics 620"));
    }

    #[test]
    fn host_file_fills_gaps() {
        let built_in = PciNames::default();
        assert_eq!((built_in.vendor(0x0b0d), built_in.device(0x10de, 0xfffe)), (None, None));
        let names = PciNames::with_text(TEXT);
        assert_eq!(names.device(0x10de, 0xfffe).as_deref(), Some("Future GPU"));
        assert_eq!(names.vendor(0x0b0d).as_deref(), Some("Future Vendor"));
        assert_eq!(names.device(0x0b0d, 0xfffe).as_deref(), Some("Not NVIDIA"));
        assert_eq!(names.device(0x0b0d, 0x0001), None);
    }

    #[test]
    fn host_file_read_only_when_needed() {
        let root = FsRoot::host();
        let names = PciNames::new(&root);
        assert!(names.device(0x10de, 0x2330).is_some());
        assert!(names.system.get().is_none(), "a known id must not read the host file");
        let _ = names.device(0x10de, 0xfffe);
        assert!(names.system.get().is_some());
    }
}
