//! biolatency: a 64 MiB O_DIRECT write + fsync of a file on the root filesystem's disk lands in
//! that disk's write histogram (at least one request per max_sectors_kb of data), with the same
//! modal bucket (±2) as libbpf-tools biolatency tracing the same workload.

#![cfg(native_linux)]

mod common;

use hypermesh_ebpf::maps::Log2Histogram;
use hypermesh_ebpf::programs::biolatency::{Biolatency, DiskHistogram, disk_of, spec_from};
use hypermesh_os::FsRoot;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TOTAL: usize = 64 << 20;
const CHUNK: usize = 1 << 20;

/// The tests count every block request of the disk; one at a time keeps them apart.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A 4096-aligned buffer, as O_DIRECT needs.
struct Aligned(Vec<u8>, usize);

impl Aligned {
    fn new(len: usize) -> Self {
        let v = vec![0xa5u8; len + 4096];
        let off = v.as_ptr().align_offset(4096);
        Aligned(v, off)
    }
    fn bytes(&self, len: usize) -> &[u8] {
        &self.0[self.1..self.1 + len]
    }
}

/// Writes 64 MiB with O_DIRECT in 1 MiB writes, fsyncs, and returns the disk (name) it went to.
fn direct_write_64mib(dir: &std::path::Path) -> String {
    let path = dir.join("direct.bin");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .custom_flags(libc::O_DIRECT)
        .open(&path)
        .expect("open O_DIRECT");
    let buf = Aligned::new(CHUNK);
    for _ in 0..TOTAL / CHUNK {
        f.write_all(buf.bytes(CHUNK)).expect("direct write");
    }
    f.sync_all().expect("fsync");
    let dev = f.metadata().unwrap().dev();
    // The disk, by major:minor, whatever the shape of its sysfs path (NVMe has no `block` in it).
    disk_of(&FsRoot::host(), libc::major(dev), libc::minor(dev)).expect("resolve the file's disk")
}

fn writes_of<'a>(hists: &'a [DiskHistogram], disk: &str) -> Option<&'a DiskHistogram> {
    hists.iter().find(|h| h.disk == disk && h.op == "write")
}

/// Minimum requests the write takes: the disk splits requests at max_sectors_kb.
fn min_requests(disk: &str) -> u64 {
    let kb: u64 = std::fs::read_to_string(format!("/sys/block/{disk}/queue/max_sectors_kb"))
        .expect("max_sectors_kb")
        .trim()
        .parse()
        .expect("max_sectors_kb number");
    (TOTAL as u64 / 1024).div_ceil(kb)
}

fn write_counted(skip: usize, expected_kind: &str) {
    if !common::root_or_skip("block I/O tracing") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir_in("/var/tmp").expect("tempdir on the root filesystem");
    let bio = Biolatency::start_spec(&spec_from(skip)).expect("load biolatency");
    let disk = direct_write_64mib(dir.path());
    let hists = bio.histograms(&FsRoot::host()).expect("read histograms");
    let kind = bio.loaded().chosen()[0].variant.kind();
    assert_eq!(kind, expected_kind);
    let w =
        writes_of(&hists, &disk).unwrap_or_else(|| panic!("no {disk} write histogram via {kind}: {hists:?}"));
    let want = min_requests(&disk);
    assert!(w.hist.total() >= want, "{disk} writes via {kind}: {} < {want} requests", w.hist.total());

    // The same data as a metric: cumulative le buckets ending at count, an exact sum whose mean
    // lies inside the histogram's range.
    let metrics = bio.metrics(&FsRoot::host()).expect("metrics");
    let m = metrics
        .iter()
        .find(|m| m.labels == [("disk", disk.clone()), ("op", "write".to_string())])
        .expect("vda write metric");
    assert!(m.count >= w.hist.total() && m.sum_exact, "{m:?}");
    assert!(m.buckets.windows(2).all(|p| p[0].0 < p[1].0 && p[0].1 <= p[1].1), "{m:?}");
    assert_eq!(m.buckets.last().map(|b| b.1), Some(m.count));
    let mean = m.sum / m.count as f64;
    let first = m.buckets.iter().position(|b| b.1 > 0).unwrap();
    let low = if first == 0 { 0.0 } else { m.buckets[first - 1].0 };
    assert!(mean >= low && mean <= m.buckets.last().unwrap().0, "mean {mean} s outside the buckets: {m:?}");
}

/// The one-argument block_rq_issue the tp_btf and raw_tp programs read.
const ONE_ARG_ISSUE: (u32, u32) = (5, 11);

#[test]
fn direct_write_64mib_best_hook() {
    if !common::btf_or_skip() || !common::kernel_at_least(ONE_ARG_ISSUE, "block_rq_issue(rq)") {
        return;
    }
    write_counted(0, "tp_btf");
}

#[test]
fn direct_write_64mib_raw_tracepoint() {
    if !common::btf_or_skip() || !common::kernel_at_least(ONE_ARG_ISSUE, "block_rq_issue(rq)") {
        return;
    }
    write_counted(1, "raw_tracepoint");
}

#[test]
fn direct_write_64mib_classic_tracepoint() {
    write_counted(2, "tracepoint");
}

/// Parses libbpf-tools' histogram lines `  lo -> hi  : count  |***|` into log2 slots.
fn parse_libbpf_hist(out: &str) -> Log2Histogram {
    let mut slots = Vec::new();
    for line in out.lines() {
        let Some((range, rest)) = line.split_once(':') else { continue };
        let Some((_, high)) = range.split_once("->") else { continue };
        let (Ok(high), Some(count)) = (high.trim().parse::<u64>(), rest.split_whitespace().next()) else {
            continue;
        };
        let Ok(count) = count.parse::<u64>() else { continue };
        let k = (high + 1).trailing_zeros() as usize - 1;
        slots.resize(slots.len().max(k + 1), 0);
        slots[k] += count;
    }
    Log2Histogram { slots }
}

fn modal(h: &Log2Histogram) -> usize {
    h.slots.iter().enumerate().max_by_key(|(k, c)| (**c, usize::MAX - k)).map(|(k, _)| k).unwrap_or(0)
}

#[test]
fn same_shape_as_libbpf_tools_biolatency() {
    if !common::root_or_skip("block I/O tracing")
        || !common::tool_or_skip("/usr/sbin/biolatency", "libbpf-tools")
        || !common::tool_or_skip("bpftool", "bpftool")
    {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir_in("/var/tmp").expect("tempdir on the root filesystem");
    let disk = direct_write_64mib(dir.path()); // warm-up: allocates the file's blocks
    let ours = Biolatency::start().expect("load biolatency");
    let before = common::bpftool_prog_ids();
    let theirs = Command::new("/usr/sbin/biolatency")
        .args(["-d", &disk, "30", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("run biolatency");
    // Wait until its programs are loaded (2: issue and complete), then a moment for the attach;
    // both then see the same requests.
    let deadline = Instant::now() + Duration::from_secs(20);
    while common::bpftool_prog_ids().difference(&before).count() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    direct_write_64mib(dir.path());
    let mine = ours.histograms(&FsRoot::host()).expect("read histograms");
    // SIGINT makes biolatency print its histogram and exit.
    hypermesh_testkit::send_signal(theirs.id(), libc::SIGINT);
    let out = theirs.wait_with_output().expect("biolatency output");
    let text = String::from_utf8_lossy(&out.stdout);
    let theirs = parse_libbpf_hist(&text);
    let mut ours_all = Log2Histogram { slots: vec![0; 27] };
    for h in mine.iter().filter(|h| h.disk == disk) {
        ours_all.slots.iter_mut().zip(&h.hist.slots).for_each(|(a, b)| *a += b);
    }
    assert!(theirs.total() >= min_requests(&disk), "libbpf-tools saw {} requests:\n{text}", theirs.total());
    let (a, b) = (modal(&ours_all), modal(&theirs));
    assert!(
        a.abs_diff(b) <= 2,
        "modal bucket ours {a} vs libbpf-tools {b}\nours:\n{}\ntheirs:\n{text}",
        ours_all.render("usecs")
    );
    let w = writes_of(&mine, &disk).expect("our write histogram");
    assert!(w.hist.total() >= min_requests(&disk), "{w:?}");
}
