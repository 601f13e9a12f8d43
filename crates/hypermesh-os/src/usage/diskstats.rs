//! `/proc/diskstats`: I/O counters per block device, and which devices count in totals.
//!
//! Sectors in diskstats are always 512 bytes, whatever the device's logical block size.
//! Totals count whole physical disks only: partitions would count their disk's I/O twice, and
//! virtual devices (device-mapper, md RAID, loop, zram, ram) sit on top of physical disks or
//! on memory, so they are listed per device but left out of totals.

use crate::error::{Error, Result};
use crate::linux::devpath;
use crate::root::FsRoot;
use serde::Serialize;

/// Bytes per diskstats sector.
pub const SECTOR_BYTES: u64 = 512;

/// Counters of one block device (fields of Documentation/admin-guide/iostats.rst).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskCounters {
    /// Kernel name (`sda`, `nvme0n1p1`).
    pub name: String,
    /// Reads completed.
    pub reads: u64,
    /// Sectors read.
    pub read_sectors: u64,
    /// Milliseconds spent reading.
    pub read_ms: u64,
    /// Writes completed.
    pub writes: u64,
    /// Sectors written.
    pub write_sectors: u64,
    /// Milliseconds spent writing.
    pub write_ms: u64,
    /// I/Os in flight now.
    pub in_flight: u64,
    /// Milliseconds with at least one I/O in flight.
    pub io_ticks_ms: u64,
    /// Weighted milliseconds doing I/O (integral of the queue length).
    pub weighted_ms: u64,
    /// Whether it counts in totals (set by the sampler with [`classify`]).
    pub kind: DiskKind,
}

/// What a block device is, for totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiskKind {
    /// A whole physical (or paravirtual) disk: counted in totals.
    #[default]
    Disk,
    /// A partition of another device.
    Partition,
    /// A device made by the kernel from other devices or memory (dm, md, loop, zram, ram).
    Virtual,
}

/// Parses `/proc/diskstats` into `out` (cleared first).
pub fn parse(text: &str, path: &str, out: &mut Vec<DiskCounters>) -> Result<()> {
    out.clear();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut w = line.split_ascii_whitespace().skip(2);
        let name = w.next().ok_or_else(|| Error::parse(path, "line without a device name"))?;
        let mut v = [0u64; 11];
        let mut n = 0;
        for (slot, word) in v.iter_mut().zip(w) {
            *slot = word.parse().map_err(|_| Error::parse(path, format!("{name}: bad number {word:?}")))?;
            n += 1;
        }
        if n < 11 {
            return Err(Error::parse(path, format!("{name}: {n} counters, expected at least 11")));
        }
        out.push(DiskCounters {
            name: name.to_string(),
            reads: v[0],
            read_sectors: v[2],
            read_ms: v[3],
            writes: v[4],
            write_sectors: v[6],
            write_ms: v[7],
            in_flight: v[8],
            io_ticks_ms: v[9],
            weighted_ms: v[10],
            kind: DiskKind::Disk,
        });
    }
    Ok(())
}

/// Classifies a device. sysfs decides where it is readable (`/sys/class/block/NAME/partition`
/// marks a partition, a device under `/sys/devices/virtual/` is virtual); otherwise the name
/// decides: a partition is another listed device's name followed by a number (`sda1`,
/// `nvme0n1p2`, `mmcblk0p1`), and dm-, md, loop, zram, ram devices are virtual.
pub fn classify(root: &FsRoot, name: &str, all: &[DiskCounters]) -> DiskKind {
    let class = format!("/sys/class/block/{name}");
    // The class entry is a link straight to the device (`../../devices/virtual/block/zram0`):
    // reading it once is enough, no need to resolve every component.
    if let Ok(target) = root.read_link(&class) {
        if root.exists(&format!("{class}/partition")) {
            return DiskKind::Partition;
        }
        return if devpath::is_virtual(&target) { DiskKind::Virtual } else { DiskKind::Disk };
    }
    let is_partition = all.iter().any(|d| {
        name.strip_prefix(d.name.as_str()).is_some_and(|rest| {
            let digits = rest.strip_prefix('p').filter(|_| d.name.ends_with(|c: char| c.is_ascii_digit()));
            let digits = digits.unwrap_or(rest);
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        })
    });
    if is_partition {
        return DiskKind::Partition;
    }
    const VIRTUAL: [&str; 5] = ["dm-", "md", "loop", "zram", "ram"];
    if VIRTUAL.iter().any(|p| name.starts_with(p)) { DiskKind::Virtual } else { DiskKind::Disk }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_old_and_new_formats() {
        let mut v = Vec::new();
        parse(
            " 8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n 8 16 sdb 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n",
            "/proc/diskstats",
            &mut v,
        )
        .unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!((v[1].reads, v[1].read_sectors, v[1].write_ms, v[1].weighted_ms), (1, 3, 8, 11));
        assert!(parse(" 8 0 sda 1 2 3\n", "d", &mut v).is_err());
        assert!(parse(" 8 0 sda 1 2 3 4 5 6 7 8 9 x 11\n", "d", &mut v).is_err());
    }

    #[test]
    fn names_decide_without_sysfs() {
        let dir = tempfile::tempdir().unwrap();
        let root = FsRoot::new(dir.path()).unwrap();
        let all: Vec<DiskCounters> =
            ["sda", "sda1", "nvme0n1", "nvme0n1p2", "mmcblk0", "mmcblk0p1", "dm-0", "sdab"]
                .iter()
                .map(|n| DiskCounters { name: n.to_string(), ..Default::default() })
                .collect();
        let kinds: Vec<DiskKind> = all.iter().map(|d| classify(&root, &d.name, &all)).collect();
        use DiskKind::*;
        assert_eq!(kinds, vec![Disk, Partition, Disk, Partition, Disk, Partition, Virtual, Disk]);
    }
}
