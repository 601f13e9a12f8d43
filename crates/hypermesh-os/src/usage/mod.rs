//! Resource usage: a sampler that reads the kernel's counters once per call, and the rates
//! between two samples.
//!
//! ```no_run
//! use hypermesh_os::{FsRoot, usage::{Rates, Sampler}};
//! let mut sampler = Sampler::new(FsRoot::host());
//! let before = sampler.sample();
//! std::thread::sleep(std::time::Duration::from_secs(1));
//! let after = sampler.sample();
//! let rates = Rates::between(&before, &after);
//! println!("{:?}", rates.cpu.map(|c| c.total_percent));
//! ```
//!
//! [`Sampler::new`] opens every counter file once; [`Sampler::sample`] re-reads them with
//! `pread` into buffers it keeps. Each source succeeds or fails on its own: a [`Sample`] holds
//! one result per source. Filesystem space is read separately ([`filesystems::read`]) because
//! statvfs can block.

pub mod cgroup;
pub mod counter;
pub mod diskstats;
pub mod filesystems;
pub mod loadavg;
pub mod memory;
pub mod netdev;
pub mod pressure;
pub mod rates;
pub mod report;
mod source;
pub mod stat;
pub mod vmstat;

pub use rates::Rates;
pub use report::Report;

use crate::error::{Error, Result};
use crate::root::FsRoot;
use cgroup::{CgroupFiles, CgroupNow, CgroupVersion};
use diskstats::{DiskCounters, DiskKind};
use loadavg::LoadAvg;
use memory::MemoryNow;
use netdev::NetCounters;
use pressure::Psi;
use source::Source;
use stat::StatCounters;
use std::collections::HashMap;
use std::time::Duration;
use vmstat::VmCounters;

/// The PSI resources, in report order.
pub const PSI_RESOURCES: [&str; 4] = ["cpu", "memory", "io", "irq"];

/// The process's cgroup as read at one sample.
#[derive(Debug, Clone, PartialEq)]
pub struct CgroupSample {
    /// Hierarchies in use.
    pub version: CgroupVersion,
    /// The process's cgroup path.
    pub path: String,
    /// Limits and usage.
    pub now: CgroupNow,
}

/// Counters and gauges read at one moment, one result per source.
#[derive(Debug)]
pub struct Sample {
    /// CLOCK_MONOTONIC when the sample was taken.
    pub time: Duration,
    /// `/proc/stat`.
    pub stat: Result<StatCounters>,
    /// `/proc/loadavg`.
    pub load: Result<LoadAvg>,
    /// `/proc/pressure/{cpu,memory,io,irq}`, in [`PSI_RESOURCES`] order.
    pub pressure: [Result<Psi>; 4],
    /// `/proc/meminfo`.
    pub memory: Result<MemoryNow>,
    /// `/proc/vmstat`.
    pub vmstat: Result<VmCounters>,
    /// `/proc/diskstats`, each device classified.
    pub disks: Result<Vec<DiskCounters>>,
    /// `/proc/net/dev`.
    pub network: Result<Vec<NetCounters>>,
    /// The calling process's cgroup.
    pub cgroup: Result<CgroupSample>,
}

/// Reads usage counters repeatedly from open files.
#[derive(Debug)]
pub struct Sampler {
    root: FsRoot,
    stat: Source,
    loadavg: Source,
    /// The PSI files, or why each could not be opened (not retried).
    pressure: [Result<Source>; 4],
    meminfo: Source,
    vmstat: Source,
    diskstats: Source,
    netdev: Source,
    cgroup: std::result::Result<CgroupFiles, String>,
    disk_kinds: HashMap<String, DiskKind>,
}

impl Sampler {
    /// Opens the counter files under `root` and finds the calling process's cgroup (from
    /// `<root>/proc/self/cgroup` and `<root>/proc/self/mountinfo`). Files that cannot be opened
    /// now are tried again at each sample, except the PSI files, which a kernel has or lacks
    /// for as long as it runs.
    pub fn new(root: FsRoot) -> Sampler {
        let cgroup = CgroupFiles::discover(&root).map_err(|e| e.to_string());
        Sampler {
            stat: Source::new(&root, "/proc/stat"),
            loadavg: Source::new(&root, "/proc/loadavg"),
            pressure: PSI_RESOURCES.map(|r| Source::opened(&root, format!("/proc/pressure/{r}"))),
            meminfo: Source::new(&root, "/proc/meminfo"),
            vmstat: Source::new(&root, "/proc/vmstat"),
            diskstats: Source::new(&root, "/proc/diskstats"),
            netdev: Source::new(&root, "/proc/net/dev"),
            cgroup,
            disk_kinds: HashMap::new(),
            root,
        }
    }

    /// The root it reads from.
    pub fn root(&self) -> &FsRoot {
        &self.root
    }

    /// Reads every source once.
    pub fn sample(&mut self) -> Sample {
        let root = &self.root;
        let time = monotonic_now();
        let stat = self.stat.read(root).and_then(|t| stat::parse(t, "/proc/stat"));
        let load = self.loadavg.read(root).and_then(|t| loadavg::parse(t, "/proc/loadavg"));
        let pressure = self.pressure.each_mut().map(|src| match src {
            Ok(src) => {
                let path = src.path().to_string();
                src.read(root).and_then(|t| pressure::parse(t, &path))
            }
            Err(why) => Err(why.duplicate()),
        });
        let memory = self.meminfo.read(root).and_then(|t| memory::parse(t, "/proc/meminfo"));
        let vmstat = self.vmstat.read(root).map(vmstat::parse);
        let network = self.netdev.read(root).and_then(|t| {
            let mut v = Vec::with_capacity(8);
            netdev::parse(t, "/proc/net/dev", &mut v).map(|()| v)
        });
        let disks = self.read_disks();
        let cgroup = match &mut self.cgroup {
            Ok(files) => Ok(CgroupSample {
                version: files.version,
                path: files.path.clone(),
                now: files.read(&self.root),
            }),
            Err(reason) => Err(Error::Unavailable(reason.clone())),
        };
        Sample { time, stat, load, pressure, memory, vmstat, disks, network, cgroup }
    }

    /// Reads diskstats and classifies each device (sysfs is consulted once per new name).
    fn read_disks(&mut self) -> Result<Vec<DiskCounters>> {
        let text = self.diskstats.read(&self.root)?;
        let mut disks = Vec::with_capacity(16);
        diskstats::parse(text, "/proc/diskstats", &mut disks)?;
        for i in 0..disks.len() {
            let kind = match self.disk_kinds.get(&disks[i].name) {
                Some(k) => *k,
                None => {
                    let k = diskstats::classify(&self.root, &disks[i].name, &disks);
                    self.disk_kinds.insert(disks[i].name.clone(), k);
                    k
                }
            };
            disks[i].kind = kind;
        }
        Ok(disks)
    }
}

/// CLOCK_MONOTONIC now.
fn monotonic_now() -> Duration {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    Duration::new(ts.tv_sec.max(0) as u64, ts.tv_nsec.clamp(0, 999_999_999) as u32)
}
