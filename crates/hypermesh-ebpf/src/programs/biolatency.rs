//! Block I/O latency (like libbpf-tools `biolatency`): block_rq_issue → block_rq_complete, a
//! log2 µs histogram per (disk, operation).
//!
//! Linux 5.11 dropped the request-queue argument of block_rq_issue; the tp_btf and raw_tp
//! variants read the new single argument, so on older kernels the chain starts at the classic
//! tracepoint, which pairs requests by (dev, sector). The raw_tp variant reads the request with
//! CO-RE, so it too needs the kernel's BTF: where BTF is hidden the chain ends at the classic
//! tracepoint. That one's record layout differs between kernels (6.8 added `ioprio` before
//! `rwbs`): the offset of `rwbs` is read from tracefs at load time.

use crate::error::{Error, Result};
use crate::lifecycle::{Hook, Loaded, Object, Spec, Variant};
use crate::maps::Log2Histogram;
use crate::programs::metrics::{Histogram, MetricInfo};
use crate::tracefs::{self, Field};
use aya::maps::PerCpuHashMap;
use hypermesh_os::FsRoot;
use serde::Serialize;

const HIST_MAP: &str = "hm_bio_hist";
/// Slots per histogram (`MAX_SLOTS` in `bpf/biolatency.bpf.c`).
const SLOTS: usize = 27;
/// The map value, per CPU: the slots, then the latency sum in ns (`struct hm_bio_hist`).
type Value = [u64; SLOTS + 1];

const ISSUE: &[Variant] = crate::tracepoint_chain!("hm_bio_issue", "block": "block_rq_issue", core: true);
const COMPLETE: &[Variant] =
    crate::tracepoint_chain!("hm_bio_done", "block": "block_rq_complete", core: true);

/// The metric [`Biolatency::metrics`] returns.
pub const BLOCK_IO_LATENCY: MetricInfo = MetricInfo {
    name: "hypermesh_ebpf_block_io_latency_seconds",
    help: "Block I/O latency from issue to completion, per disk and operation.",
};

/// The map key, as `struct hm_bio_key`.
#[repr(C)]
#[derive(Clone, Copy)]
struct Key {
    dev: u32,
    op: u32,
}

// SAFETY: plain old data, no padding.
unsafe impl aya::Pod for Key {}

/// The program set; `skip` drops the first `skip` variants of both chains (to force a fallback).
/// Both hooks must use the same kind: the tracepoint pairs requests by (dev, sector), the others
/// by request address.
pub fn spec_from(skip: usize) -> Spec {
    Spec {
        name: "biolatency",
        object: Object::Embedded(crate::embedded_object!("biolatency.bpf.o")),
        hooks: vec![
            Hook::skipping("block_rq_issue", ISSUE, skip),
            Hook::skipping("block_rq_complete", COMPLETE, skip),
        ],
        globals: Vec::new(),
    }
}

/// The spec for this kernel: the classic tracepoint only before 5.11 (see the module doc).
pub fn spec() -> Spec {
    spec_from(if crate::sys::kernel_version() >= (5, 11) { 0 } else { 2 })
}

/// The global of `bpf/biolatency.bpf.c` that holds rwbs' offset in block_rq_complete's record.
const RWBS_OFFSET_GLOBAL: &str = "hm_bio_done_rwbs_off";

/// Checks that the classic tracepoints' records have `dev` and `sector` where the program reads
/// them (offsets 8 and 16, on every 6.x kernel) and returns the offset of block_rq_complete's
/// `rwbs`, which moved in 6.8; the program reads 4 bytes of it from the record's first 40.
pub fn tracepoint_rwbs_offset(issue: &[Field], complete: &[Field]) -> Result<u32> {
    for (event, fields) in [("block_rq_issue", issue), ("block_rq_complete", complete)] {
        for (name, offset, size) in [("dev", 8, 4), ("sector", 16, 8)] {
            match tracefs::field(fields, name) {
                Some(f) if f.offset == offset && f.size == size => {}
                other => {
                    return Err(Error::Unsupported(format!(
                        "{event}: field {name} is {other:?}, not at offset {offset} with size {size}: a record layout this program does not know"
                    )));
                }
            }
        }
    }
    match tracefs::field(complete, "rwbs") {
        Some(f) if f.size >= 4 && f.offset + 4 <= 40 => Ok(f.offset),
        other => Err(Error::Unsupported(format!(
            "block_rq_complete: field rwbs is {other:?}, not within the record's first 40 bytes"
        ))),
    }
}

/// [`tracepoint_rwbs_offset`] from this kernel's format files.
fn read_rwbs_offset(root: &FsRoot) -> Result<u32> {
    let issue = tracefs::read_format(root, "block", "block_rq_issue")?;
    let complete = tracefs::read_format(root, "block", "block_rq_complete")?;
    tracepoint_rwbs_offset(&issue, &complete)
}

/// The disk a device number belongs to: the device's own name, or for a partition its parent
/// disk's (`/sys/dev/block/M:m` resolves to `.../DISK` or `.../DISK/PARTITION`, with or without
/// a `block` component: NVMe has none).
pub fn disk_of(root: &FsRoot, major: u32, minor: u32) -> Option<String> {
    let target = root.resolve(&format!("/sys/dev/block/{major}:{minor}")).ok()?;
    let mut names = target.rsplit('/').filter(|c| !c.is_empty());
    let name = names.next()?;
    let partition = root.read_string(&format!("{target}/partition")).is_ok();
    if partition { names.next() } else { Some(name) }.map(str::to_string)
}

/// Name of a `REQ_OP_*` number (`include/linux/blk_types.h`).
pub fn op_name(op: u32) -> String {
    match op {
        0 => "read".into(),
        1 => "write".into(),
        2 => "flush".into(),
        3 => "discard".into(),
        5 => "secure_erase".into(),
        9 => "write_zeroes".into(),
        n => format!("op{n}"),
    }
}

/// Latencies of one operation on one disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiskHistogram {
    /// Disk name from /sys/dev/block (`vda`), else `MAJOR:MINOR`.
    pub disk: String,
    /// Device major.
    pub major: u32,
    /// Device minor.
    pub minor: u32,
    /// `read`, `write`, `flush`, `discard`...
    pub op: String,
    /// Log2 histogram of microseconds.
    pub hist: Log2Histogram,
    /// Sum of all latencies, nanoseconds.
    pub sum_ns: u64,
}

/// A running biolatency.
pub struct Biolatency {
    loaded: Loaded,
}

impl Biolatency {
    /// Loads and attaches with the best variant for this kernel.
    pub fn start() -> Result<Self> {
        Self::start_spec(&spec())
    }

    /// Loads and attaches a given spec (see [`spec_from`]), with the classic tracepoint's record
    /// layout read from tracefs; fails when that variant is the one attached and the layout is
    /// unknown.
    pub fn start_spec(spec: &Spec) -> Result<Self> {
        let mut spec = spec.clone();
        let rwbs = read_rwbs_offset(&FsRoot::host());
        if let Ok(offset) = &rwbs {
            spec.globals.push((RWBS_OFFSET_GLOBAL, *offset));
        }
        let loaded = Loaded::load_same_kind(&spec, |kinds| {
            format!(
                "biolatency: issue and completion attached with different kinds ({kinds:?}); they cannot be paired"
            )
        })?;
        if let (Some("tracepoint"), Err(e)) = (loaded.chosen().first().map(|c| c.variant.kind()), rwbs) {
            return Err(Error::Unavailable(format!(
                "biolatency: the block_rq_complete tracepoint's record layout is unknown here: {e}"
            )));
        }
        Ok(Biolatency { loaded })
    }

    /// The loaded programs.
    pub fn loaded(&self) -> &Loaded {
        &self.loaded
    }

    /// Histograms per (disk, operation), sorted by disk then operation; disk names come from
    /// `/sys/dev/block` under `root`.
    pub fn histograms(&self, root: &FsRoot) -> Result<Vec<DiskHistogram>> {
        let map: PerCpuHashMap<_, Key, Value> = PerCpuHashMap::try_from(self.loaded.map(HIST_MAP)?)
            .map_err(|e| Error::aya("reading the block I/O histograms", e))?;
        let mut out = Vec::new();
        for entry in map.iter() {
            let (key, per_cpu) = entry.map_err(|e| Error::aya("iterating the block I/O histograms", e))?;
            let mut value: Value = [0; SLOTS + 1];
            for cpu in per_cpu.iter() {
                value.iter_mut().zip(cpu).for_each(|(sum, v)| *sum += v);
            }
            let (major, minor) = (key.dev >> 20, key.dev & ((1 << 20) - 1));
            let disk = disk_of(root, major, minor).unwrap_or_else(|| format!("{major}:{minor}"));
            out.push(DiskHistogram {
                disk,
                major,
                minor,
                op: op_name(key.op),
                hist: Log2Histogram { slots: value[..SLOTS].to_vec() },
                sum_ns: value[SLOTS],
            });
        }
        out.sort_by(|a, b| a.disk.cmp(&b.disk).then_with(|| a.op.cmp(&b.op)));
        Ok(out)
    }

    /// `hypermesh_ebpf_block_io_latency_seconds{disk, op}` histograms.
    pub fn metrics(&self, root: &FsRoot) -> Result<Vec<Histogram>> {
        Ok(self
            .histograms(root)?
            .into_iter()
            .map(|h| {
                let labels = vec![("disk", h.disk), ("op", h.op)];
                Histogram::from_log2_usecs(&BLOCK_IO_LATENCY, labels, &h.hist, Some(h.sum_ns))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMON: &str = "format:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
        \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
        \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
        \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
        \tfield:dev_t dev;\toffset:8;\tsize:4;\tsigned:0;\n\
        \tfield:sector_t sector;\toffset:16;\tsize:8;\tsigned:0;\n\
        \tfield:unsigned int nr_sector;\toffset:24;\tsize:4;\tsigned:0;\n";

    /// Linux 6.1 (`include/trace/events/block.h`: no ioprio, RWBS_LEN 8).
    fn linux_6_1() -> (String, String) {
        let issue = format!(
            "name: block_rq_issue\n{COMMON}\tfield:unsigned int bytes;\toffset:28;\tsize:4;\tsigned:0;\n\
             \tfield:char rwbs[8];\toffset:32;\tsize:8;\tsigned:1;\n\
             \tfield:char comm[16];\toffset:40;\tsize:16;\tsigned:1;\n\
             \tfield:__data_loc char[] cmd;\toffset:56;\tsize:4;\tsigned:1;\n"
        );
        let complete = format!(
            "name: block_rq_complete\n{COMMON}\tfield:int error;\toffset:28;\tsize:4;\tsigned:1;\n\
             \tfield:char rwbs[8];\toffset:32;\tsize:8;\tsigned:1;\n\
             \tfield:__data_loc char[] cmd;\toffset:40;\tsize:4;\tsigned:1;\n"
        );
        (issue, complete)
    }

    /// Linux 6.18 (ioprio before rwbs, RWBS_LEN 10), as this CI host's tracefs shows it.
    fn linux_6_18() -> (String, String) {
        let issue = format!(
            "name: block_rq_issue\n{COMMON}\tfield:unsigned int bytes;\toffset:28;\tsize:4;\tsigned:0;\n\
             \tfield:unsigned short ioprio;\toffset:32;\tsize:2;\tsigned:0;\n\
             \tfield:char rwbs[10];\toffset:34;\tsize:10;\tsigned:0;\n\
             \tfield:char comm[16];\toffset:44;\tsize:16;\tsigned:0;\n\
             \tfield:__data_loc char[] cmd;\toffset:60;\tsize:4;\tsigned:0;\n"
        );
        let complete = format!(
            "name: block_rq_complete\n{COMMON}\tfield:int error;\toffset:28;\tsize:4;\tsigned:1;\n\
             \tfield:unsigned short ioprio;\toffset:32;\tsize:2;\tsigned:0;\n\
             \tfield:char rwbs[10];\toffset:34;\tsize:10;\tsigned:0;\n\
             \tfield:__data_loc char[] cmd;\toffset:44;\tsize:4;\tsigned:0;\n"
        );
        (issue, complete)
    }

    fn offset(formats: (String, String)) -> Result<u32> {
        tracepoint_rwbs_offset(&tracefs::parse_format(&formats.0), &tracefs::parse_format(&formats.1))
    }

    #[test]
    fn rwbs_offset_on_both_layouts() {
        assert_eq!(offset(linux_6_1()).unwrap(), 32);
        assert_eq!(offset(linux_6_18()).unwrap(), 34);
    }

    #[test]
    fn unknown_layouts_are_refused() {
        let (issue, complete) = linux_6_1();
        let moved = issue.replace("offset:16;\tsize:8", "offset:24;\tsize:8");
        let err = offset((moved, complete.clone())).unwrap_err().to_string();
        assert!(err.contains("block_rq_issue: field sector"), "{err}");
        let no_rwbs = complete.replace("rwbs[8]", "flags[8]");
        assert!(offset((issue, no_rwbs)).unwrap_err().to_string().contains("rwbs is None"));
    }

    /// This host's own format files parse to one of the two known layouts.
    #[test]
    fn this_kernels_layout_is_known() {
        let root = FsRoot::host();
        match read_rwbs_offset(&root) {
            Ok(off) => assert!(off == 32 || off == 34, "rwbs at {off}"),
            Err(e) => hypermesh_testkit::skip(&format!("tracefs format unreadable: {e}")),
        }
    }

    #[test]
    fn disk_of_a_partition_is_its_parent_on_any_path_shape() {
        let dir = tempfile::tempdir().unwrap();
        let devices = dir.path().join("sys/devices/pci0000:00/nvme/nvme0/nvme0n1");
        std::fs::create_dir_all(devices.join("nvme0n1p1")).unwrap();
        std::fs::write(devices.join("nvme0n1p1/partition"), "1\n").unwrap();
        let virtio = dir.path().join("sys/devices/pci0000:00/virtio1/block/vda");
        std::fs::create_dir_all(&virtio).unwrap();
        let links = dir.path().join("sys/dev/block");
        std::fs::create_dir_all(&links).unwrap();
        let up = "../../devices/pci0000:00";
        std::os::unix::fs::symlink(format!("{up}/nvme/nvme0/nvme0n1"), links.join("259:0")).unwrap();
        std::os::unix::fs::symlink(format!("{up}/nvme/nvme0/nvme0n1/nvme0n1p1"), links.join("259:1"))
            .unwrap();
        std::os::unix::fs::symlink(format!("{up}/virtio1/block/vda"), links.join("254:0")).unwrap();
        let root = FsRoot::new(dir.path()).unwrap();
        assert_eq!(disk_of(&root, 259, 0).as_deref(), Some("nvme0n1"));
        assert_eq!(disk_of(&root, 259, 1).as_deref(), Some("nvme0n1"));
        assert_eq!(disk_of(&root, 254, 0).as_deref(), Some("vda"));
        assert_eq!(disk_of(&root, 8, 0), None);
    }
}
