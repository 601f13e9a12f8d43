//! Vendor and model names from a pci.ids database: the host's own file when there is one (the
//! names `lspci` shows, often newer), else the copy built into the `pci-ids` crate.

use crate::root::FsRoot;
use pci_ids::FromId;

/// Where distributions install pci.ids (Fedora/Arch `hwdata`, Debian `pci.ids`).
const SYSTEM_FILES: [&str; 2] = ["/usr/share/hwdata/pci.ids", "/usr/share/misc/pci.ids"];

/// A pci.ids database: the system file's text, if one was found, with the built-in one behind it.
#[derive(Debug, Default)]
pub struct PciNames {
    system: Option<String>,
}

impl PciNames {
    /// Loads the first system pci.ids found under `root`; only the built-in database otherwise.
    pub fn load(root: &FsRoot) -> Self {
        PciNames { system: SYSTEM_FILES.iter().find_map(|p| root.read_string(p).ok()) }
    }

    /// A database made of the given pci.ids text (tests), with the built-in one behind it.
    pub fn from_text(text: impl Into<String>) -> Self {
        PciNames { system: Some(text.into()) }
    }

    /// Vendor name of `vendor`.
    pub fn vendor(&self, vendor: u16) -> Option<String> {
        let from_file = self.system.as_deref().and_then(|t| vendor_section(t, vendor)).map(|(name, _)| name);
        from_file.or_else(|| pci_ids::Vendor::from_id(vendor).map(|v| v.name())).map(str::to_string)
    }

    /// Device (model) name of `vendor:device`.
    pub fn device(&self, vendor: u16, device: u16) -> Option<String> {
        let from_file =
            self.system.as_deref().and_then(|t| vendor_section(t, vendor)).and_then(|(_, body)| {
                let prefix = format!("{device:04x} ");
                body.lines().find_map(|l| l.strip_prefix('\t')?.strip_prefix(&prefix)).map(str::trim)
            });
        from_file
            .or_else(|| pci_ids::Device::from_vid_pid(vendor, device).map(|d| d.name()))
            .map(str::to_string)
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

    const TEXT: &str = "# comment\n10de  NVIDIA Corporation\n\t2330  GH100 [H100 SXM5 80GB]\n\
                        \t\t10de 16c1  H100 SXM5 80GB\n# inner comment\n\t2331  GH100 [H100 PCIe]\n\
                        10df  Emulex Corporation\n\t2330  Not NVIDIA\nC 03  Display controller\n";

    #[test]
    fn system_file_first() {
        let names = PciNames::from_text(TEXT);
        assert_eq!(names.vendor(0x10de).as_deref(), Some("NVIDIA Corporation"));
        assert_eq!(names.device(0x10de, 0x2330).as_deref(), Some("GH100 [H100 SXM5 80GB]"));
        assert_eq!(names.device(0x10de, 0x2331).as_deref(), Some("GH100 [H100 PCIe]"));
        assert_eq!(names.device(0x10df, 0x2330).as_deref(), Some("Not NVIDIA"));
    }

    #[test]
    fn built_in_database_fills_gaps() {
        let names = PciNames::from_text(TEXT);
        // Not in the text: the crate's database answers.
        assert_eq!(names.vendor(0x1002).as_deref(), Some("Advanced Micro Devices, Inc. [AMD/ATI]"));
        assert_eq!(names.device(0x8086, 0x5917).as_deref(), Some("UHD Graphics 620"));
        assert_eq!(PciNames::default().device(0xffff, 0x0001), None);
    }
}
