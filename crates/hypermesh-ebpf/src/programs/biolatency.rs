//! Block I/O latency (like libbpf-tools `biolatency`): block_rq_issue → block_rq_complete, a
//! log2 µs histogram per (disk, operation).
//!
//! Linux 5.11 dropped the request-queue argument of block_rq_issue; the tp_btf and raw_tp
//! variants read the new single argument, so on older kernels the chain starts at the classic
//! tracepoint, which pairs requests by (dev, sector).

use crate::error::{Error, Result};
use crate::lifecycle::{Hook, Loaded, Object, Spec, Variant};
use crate::maps::Log2Histogram;
use crate::programs::metrics::{Histogram, MetricInfo};
use aya::maps::PerCpuHashMap;
use hypermesh_os::FsRoot;
use serde::Serialize;

const HIST_MAP: &str = "hm_bio_hist";
/// Slots per histogram (`MAX_SLOTS` in `bpf/biolatency.bpf.c`).
const SLOTS: usize = 27;
/// The map value, per CPU: the slots, then the latency sum in ns (`struct hm_bio_hist`).
type Value = [u64; SLOTS + 1];

const ISSUE: &[Variant] = &[
    Variant::TpBtf { prog: "hm_bio_issue_btf", event: "block_rq_issue" },
    Variant::RawTp { prog: "hm_bio_issue_raw", event: "block_rq_issue" },
    Variant::Tracepoint { prog: "hm_bio_issue_tp", category: "block", event: "block_rq_issue" },
];
const COMPLETE: &[Variant] = &[
    Variant::TpBtf { prog: "hm_bio_done_btf", event: "block_rq_complete" },
    Variant::RawTp { prog: "hm_bio_done_raw", event: "block_rq_complete" },
    Variant::Tracepoint { prog: "hm_bio_done_tp", category: "block", event: "block_rq_complete" },
];

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

    /// Loads and attaches a given spec (see [`spec_from`]).
    pub fn start_spec(spec: &Spec) -> Result<Self> {
        let loaded = Loaded::load(spec)?;
        let kinds: Vec<&str> = loaded.chosen().iter().map(|c| c.variant.kind()).collect();
        if kinds.windows(2).any(|w| w[0] != w[1]) {
            return Err(Error::Unavailable(format!(
                "biolatency: issue and completion attached with different kinds ({kinds:?}); they cannot be paired"
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
            let disk = root
                .link_name(&format!("/sys/dev/block/{major}:{minor}"))
                .unwrap_or_else(|| format!("{major}:{minor}"));
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
