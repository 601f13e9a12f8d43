//! NVMe controllers from `/sys/class/nvme/nvmeN`: identity, transport and namespaces.

use crate::error::Result;
use crate::linux::devpath;
use crate::model::NvmeController;
use crate::profile::Problems;
use crate::root::FsRoot;

const CLASS: &str = "/sys/class/nvme";

/// Lists the NVMe controllers. A host without NVMe (no `/sys/class/nvme`) has none; that is not
/// an error.
pub fn detect(root: &FsRoot, problems: &mut Problems) -> Result<Vec<NvmeController>> {
    let names = match root.read_dir(CLASS) {
        Ok(n) => n,
        Err(e) if e.is_not_found() => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(names.iter().map(|name| controller(root, name, problems)).collect())
}

fn controller(root: &FsRoot, name: &str, problems: &mut Problems) -> NvmeController {
    let dir = format!("{CLASS}/{name}");
    let attr = |a: &str| root.read_opt(&format!("{dir}/{a}"));
    let namespaces = match root.read_dir(&dir) {
        Ok(entries) => entries.iter().filter_map(|e| namespace_device(e)).collect(),
        Err(e) => {
            problems.push(e);
            Vec::new()
        }
    };
    NvmeController {
        name: name.to_string(),
        model: attr("model"),
        serial: attr("serial"),
        firmware: attr("firmware_rev"),
        transport: attr("transport"),
        state: attr("state"),
        cntlid: attr("cntlid").and_then(|c| c.parse().ok()),
        pci_address: root.read_link(&dir).ok().and_then(|t| devpath::pci_address(&t, "nvme")),
        namespaces,
    }
}

/// Block device name of a namespace entry in a controller directory: `nvme0n1` as is, and a
/// multipath path `nvme0c1n1` as its head `nvme0n1`. Other entries give `None`.
pub fn namespace_device(entry: &str) -> Option<String> {
    let rest = entry.strip_prefix("nvme")?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (subsys, tail) = rest.split_at(rest.find(|c: char| !c.is_ascii_digit())?);
    let ns = match tail.split_once('n') {
        Some(("", ns)) => ns,
        Some((path, ns)) if path.strip_prefix('c').is_some_and(digits) => ns,
        _ => return None,
    };
    (digits(subsys) && digits(ns)).then(|| format!("nvme{subsys}n{ns}"))
}

/// Controller name of an NVMe namespace block device (`nvme0n1` → `nvme0`).
pub fn controller_of(device: &str) -> Option<&str> {
    let rest = device.strip_prefix("nvme")?;
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    (end > 0).then(|| &device[..4 + end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_names() {
        assert_eq!(namespace_device("nvme0n1").as_deref(), Some("nvme0n1"));
        assert_eq!(namespace_device("nvme0c3n2").as_deref(), Some("nvme0n2"));
        assert_eq!(namespace_device("nvme0"), None);
        assert_eq!(namespace_device("model"), None);
        assert_eq!(namespace_device("nvme0nx"), None);
        assert_eq!(namespace_device("nvme0c1"), None);
        assert_eq!(controller_of("nvme12n1"), Some("nvme12"));
        assert_eq!(controller_of("nvme"), None);
        assert_eq!(controller_of("sda"), None);
    }
}
