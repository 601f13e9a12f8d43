//! EDAC memory controllers (`/sys/devices/system/edac/mc/mcN`): corrected and uncorrected
//! memory error counts per controller, per DIMM (`dimmN/`, current kernels) and per chip-select
//! row and channel (`csrowN/`, the legacy layout kernels still offer).

use super::{Assessment, Status};
use crate::error::Result;
use crate::root::FsRoot;
use serde::{Deserialize, Serialize};

const MC: &str = "/sys/devices/system/edac/mc";

/// Error counts of one memory controller.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryController {
    /// Directory name (`mc0`).
    pub name: String,
    /// Controller number (`0` of `mc0`).
    pub index: u32,
    /// The EDAC driver's name for it (`mc_name`: `Skylake Socket#0 IMC#0`).
    pub mc_name: Option<String>,
    /// NUMA node: the controller device's `numa_node`, or 0 on a host with a single node;
    /// `None` when it cannot be told.
    pub numa_node: Option<u32>,
    /// Corrected errors (`ce_count`).
    pub correctable_errors: Option<u64>,
    /// Uncorrected errors (`ue_count`).
    pub uncorrectable_errors: Option<u64>,
    /// Corrected errors with no location (`ce_noinfo_count`).
    pub correctable_noinfo: Option<u64>,
    /// Uncorrected errors with no location (`ue_noinfo_count`).
    pub uncorrectable_noinfo: Option<u64>,
    /// DIMMs with their counts.
    pub dimms: Vec<Dimm>,
    /// Chip-select rows with their counts.
    pub csrows: Vec<Csrow>,
}

/// One DIMM (`dimmN/`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dimm {
    /// Number (`0` of `dimm0`).
    pub index: u32,
    /// Board label (`dimm_label`: `CPU_SrcID#0_Ha#0_Chan#0_DIMM#0`).
    pub label: Option<String>,
    /// Location (`dimm_location`: `channel 0 slot 0`).
    pub location: Option<String>,
    /// Size in MiB (`size`).
    pub size_mib: Option<u64>,
    /// Corrected errors (`dimm_ce_count`).
    pub correctable_errors: Option<u64>,
    /// Uncorrected errors (`dimm_ue_count`).
    pub uncorrectable_errors: Option<u64>,
}

/// One chip-select row (`csrowN/`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Csrow {
    /// Number (`0` of `csrow0`).
    pub index: u32,
    /// Corrected errors (`ce_count`).
    pub correctable_errors: Option<u64>,
    /// Uncorrected errors (`ue_count`).
    pub uncorrectable_errors: Option<u64>,
    /// Channels of the row.
    pub channels: Vec<Channel>,
}

/// One channel of a row (`chN_*`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    /// Number (`0` of `ch0_ce_count`).
    pub index: u32,
    /// DIMM label (`chN_dimm_label`).
    pub dimm_label: Option<String>,
    /// Corrected errors (`chN_ce_count`).
    pub correctable_errors: Option<u64>,
    /// Uncorrected errors (`chN_ue_count`, where the driver has it).
    pub uncorrectable_errors: Option<u64>,
}

/// The number after `prefix` in a directory entry (`csrow3` → 3).
fn numbered(entry: &str, prefix: &str) -> Option<u32> {
    entry.strip_prefix(prefix)?.parse().ok()
}

/// Reads every memory controller. No EDAC directory means no EDAC driver: no controllers.
pub fn read(root: &FsRoot) -> Result<Vec<MemoryController>> {
    let entries = match root.read_dir(MC) {
        Ok(e) => e,
        Err(e) if e.is_not_found() => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let single_node = root
        .read_dir("/sys/devices/system/node")
        .map(|n| n.iter().filter(|e| numbered(e, "node").is_some()).count() == 1)
        .unwrap_or(false);
    let mut out: Vec<MemoryController> = entries
        .iter()
        .filter_map(|e| numbered(e, "mc").map(|i| (e, i)))
        .map(|(entry, index)| controller(root, entry, index, single_node))
        .collect();
    out.sort_by_key(|m| m.index);
    Ok(out)
}

fn controller(root: &FsRoot, entry: &str, index: u32, single_node: bool) -> MemoryController {
    let dir = format!("{MC}/{entry}");
    let count = |f: &str| root.read_opt_parsed::<u64>(&format!("{dir}/{f}"));
    let numa_node = root
        .read_opt_parsed::<i64>(&format!("{dir}/device/numa_node"))
        .and_then(|n| u32::try_from(n).ok())
        .or(single_node.then_some(0));
    let names = root.read_dir(&dir).unwrap_or_default();
    let mut dimms: Vec<Dimm> =
        names.iter().filter_map(|e| numbered(e, "dimm").map(|i| dimm(root, &dir, e, i))).collect();
    dimms.sort_by_key(|d| d.index);
    let mut csrows: Vec<Csrow> =
        names.iter().filter_map(|e| numbered(e, "csrow").map(|i| csrow(root, &dir, e, i))).collect();
    csrows.sort_by_key(|c| c.index);
    MemoryController {
        name: entry.to_string(),
        index,
        mc_name: root.read_opt(&format!("{dir}/mc_name")),
        numa_node,
        correctable_errors: count("ce_count"),
        uncorrectable_errors: count("ue_count"),
        correctable_noinfo: count("ce_noinfo_count"),
        uncorrectable_noinfo: count("ue_noinfo_count"),
        dimms,
        csrows,
    }
}

fn dimm(root: &FsRoot, mc: &str, entry: &str, index: u32) -> Dimm {
    let dir = format!("{mc}/{entry}");
    let text = |f: &str| root.read_opt(&format!("{dir}/{f}"));
    let count = |f: &str| root.read_opt_parsed::<u64>(&format!("{dir}/{f}"));
    Dimm {
        index,
        label: text("dimm_label"),
        location: text("dimm_location"),
        size_mib: count("size"),
        correctable_errors: count("dimm_ce_count"),
        uncorrectable_errors: count("dimm_ue_count"),
    }
}

fn csrow(root: &FsRoot, mc: &str, entry: &str, index: u32) -> Csrow {
    let dir = format!("{mc}/{entry}");
    let count = |f: &str| root.read_opt_parsed::<u64>(&format!("{dir}/{f}"));
    let mut channels: Vec<u32> = root
        .read_dir(&dir)
        .unwrap_or_default()
        .iter()
        .filter_map(|f| {
            let rest = f.strip_prefix("ch")?;
            let (n, prop) = rest.split_once('_')?;
            matches!(prop, "ce_count" | "ue_count" | "dimm_label").then(|| n.parse().ok())?
        })
        .collect();
    channels.sort_unstable();
    channels.dedup();
    Csrow {
        index,
        correctable_errors: count("ce_count"),
        uncorrectable_errors: count("ue_count"),
        channels: channels
            .into_iter()
            .map(|ch| Channel {
                index: ch,
                dimm_label: root.read_opt(&format!("{dir}/ch{ch}_dimm_label")),
                correctable_errors: count(&format!("ch{ch}_ce_count")),
                uncorrectable_errors: count(&format!("ch{ch}_ue_count")),
            })
            .collect(),
    }
}

impl MemoryController {
    /// Failing with any uncorrected error; a warning with corrected ones (they are what
    /// precedes uncorrected errors on a wearing DIMM).
    pub fn assess(&self) -> Assessment {
        let mut a = Assessment::default();
        let ue = self.uncorrectable_errors.unwrap_or(0);
        let ce = self.correctable_errors.unwrap_or(0);
        if ue > 0 {
            a.note(
                Status::Failing,
                format!("{ue} uncorrected memory errors{}", self.worst_dimm(|d| d.uncorrectable_errors)),
            );
        }
        if ce > 0 {
            a.note(
                Status::Warning,
                format!("{ce} corrected memory errors{}", self.worst_dimm(|d| d.correctable_errors)),
            );
        }
        a
    }

    /// `" (most on DIMM X: N)"` when a DIMM has errors of that kind.
    fn worst_dimm(&self, count: fn(&Dimm) -> Option<u64>) -> String {
        self.dimms
            .iter()
            .filter_map(|d| count(d).filter(|&n| n > 0).map(|n| (n, d)))
            .max_by_key(|(n, _)| *n)
            .map(|(n, d)| {
                let label = d.label.clone().unwrap_or_else(|| format!("dimm{}", d.index));
                format!(" (most on {label}: {n})")
            })
            .unwrap_or_default()
    }
}
