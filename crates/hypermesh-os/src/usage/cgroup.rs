//! Limits of the calling process's cgroup, v1 and v2 (and hybrid hosts that mount both).
//!
//! The process's cgroup comes from `/proc/self/cgroup` and the hierarchies from
//! `/proc/self/mountinfo`, both read under the sampler's root: under an alternate root they
//! describe whatever process the capture was taken from. The layout is discovered once, when
//! the sampler is made; the limit files are then re-read at every sample (limits can change
//! at run time, e.g. `docker update`). For each controller (cpu, memory, cpuset) a v1 hierarchy
//! that carries it wins; otherwise the v2 hierarchy is used. Limits are hierarchical, so every
//! level from the process's cgroup up to the hierarchy's root is read and the tightest wins.
//! Cgroup pressure is read from the v2 hierarchy only (v1 has none by default).

use super::pressure::{self, Psi};
use super::source::Source;
use crate::cpulist;
use crate::error::{Error, Result};
use crate::linux::mountinfo::{self, Mount};
use crate::root::FsRoot;
use serde::Serialize;

/// v1 memory limits at or above this are the "unlimited" sentinel (`LONG_MAX` rounded down to
/// the page size: 0x7FFFFFFFFFFFF000 with 4 KiB pages, lower with 64 KiB pages).
pub const V1_UNLIMITED: u64 = 0x7FFF_FFFF_FFFF_0000;

/// Which cgroup hierarchies the process lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CgroupVersion {
    /// Only the legacy per-controller hierarchies.
    V1,
    /// Only the unified hierarchy.
    V2,
    /// v1 controllers plus a (controller-less or partial) v2 hierarchy.
    Hybrid,
}

/// The cgroup limits and usage as read at one sample.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CgroupNow {
    /// CPU quota and period of the tightest level, microseconds (`None` = no quota).
    pub cpu_quota: Option<(u64, u64)>,
    /// CPUs the process may run on (`None` = not known).
    pub cpuset: Option<Vec<u32>>,
    /// Tightest memory limit in bytes (`None` = no limit).
    pub memory_limit_bytes: Option<u64>,
    /// Memory charged to the process's cgroup now.
    pub memory_current_bytes: Option<u64>,
    /// Memory pressure of the cgroup (v2).
    pub memory_pressure: Option<Psi>,
    /// I/O pressure of the cgroup (v2).
    pub io_pressure: Option<Psi>,
    /// Files that could not be read this time.
    pub problems: Vec<String>,
}

/// Where the CPU quota is read.
#[derive(Debug)]
enum CpuFiles {
    /// `cpu.max` per level.
    V2(Vec<Source>),
    /// `cpu.cfs_quota_us` and `cpu.cfs_period_us` per level.
    V1(Vec<(Source, Source)>),
}

/// The files of the process's cgroup, opened once.
#[derive(Debug)]
pub(crate) struct CgroupFiles {
    /// Hierarchies in use.
    pub version: CgroupVersion,
    /// The process's cgroup path (in the v1 memory hierarchy when that is used, else unified).
    pub path: String,
    cpu: CpuFiles,
    memory_limits: Vec<Source>,
    memory_v2: bool,
    memory_current: Option<Source>,
    cpuset: Vec<Source>,
    memory_pressure: Option<Source>,
    io_pressure: Option<Source>,
}

/// One line of `/proc/self/cgroup`.
struct Membership<'a> {
    controllers: Vec<&'a str>,
    path: &'a str,
}

/// The process's place in every mounted cgroup hierarchy, from `/proc/self/cgroup` and
/// `/proc/self/mountinfo` under a root (under an alternate root: the process the capture was
/// taken from).
#[derive(Debug, Clone)]
pub(crate) struct Hierarchies {
    /// Hierarchies in use.
    pub version: CgroupVersion,
    /// The unified (v2) hierarchy's levels, when the process is in a mounted one.
    unified: Option<Levels>,
    /// The levels of the v1 hierarchies that carry cpu, memory and cpuset.
    cpu_v1: Option<Levels>,
    memory_v1: Option<Levels>,
    cpuset_v1: Option<Levels>,
    /// The process's cgroup path (in the v1 memory hierarchy when that is used, else unified).
    path: String,
}

/// Where the process's cpuset is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CpusetDirs {
    /// True for a v1 cpuset hierarchy (`cpuset.effective_cpus`), false for v2
    /// (`cpuset.cpus.effective`).
    pub v1: bool,
    /// The cgroup's directory first, then each parent up to the mount point.
    pub dirs: Vec<String>,
}

impl Hierarchies {
    /// Finds the process's cgroups; `Err` when the process is in none (no cgroup filesystem).
    pub(crate) fn discover(root: &FsRoot) -> Result<Self> {
        let cgroup_text = root.read_string("/proc/self/cgroup")?;
        let mount_text = root.read_string("/proc/self/mountinfo")?;
        let (mounts, _bad) = mountinfo::parse(&mount_text);
        let members: Vec<Membership> = cgroup_text
            .lines()
            .filter_map(|l| {
                let mut parts = l.splitn(3, ':');
                let _id = parts.next()?;
                let controllers = parts.next()?.split(',').filter(|c| !c.is_empty()).collect();
                Some(Membership { controllers, path: parts.next()? })
            })
            .collect();
        let unified = members
            .iter()
            .find(|m| m.controllers.is_empty())
            .zip(mounts.iter().find(|m| m.fs_type == "cgroup2"))
            .map(|(member, mount)| levels(mount, member.path));
        let v1 = |ctl: &str| {
            let member = members.iter().find(|m| m.controllers.contains(&ctl))?;
            let mount = mounts
                .iter()
                .find(|m| m.fs_type == "cgroup" && m.super_options.split(',').any(|o| o == ctl))?;
            Some(levels(mount, member.path))
        };
        let (cpu_v1, memory_v1, cpuset_v1) = (v1("cpu"), v1("memory"), v1("cpuset"));
        let any_v1 = cpu_v1.is_some() || memory_v1.is_some() || cpuset_v1.is_some();
        let version = match (any_v1, unified.is_some()) {
            (true, true) => CgroupVersion::Hybrid,
            (true, false) => CgroupVersion::V1,
            (false, true) => CgroupVersion::V2,
            (false, false) => {
                return Err(Error::Unavailable("the process is in no mounted cgroup hierarchy".into()));
            }
        };
        let memory_member = members.iter().find(|m| m.controllers.contains(&"memory"));
        let unified_member = members.iter().find(|m| m.controllers.is_empty());
        let path = if memory_v1.is_some() { memory_member } else { unified_member.or(memory_member) }
            .or(members.first())
            .map(|m| m.path.to_string())
            .unwrap_or_default();
        Ok(Hierarchies { version, unified, cpu_v1, memory_v1, cpuset_v1, path })
    }

    /// Where the cpuset is read: the v1 cpuset hierarchy when one carries it, else the
    /// unified one; `None` when neither is mounted.
    pub(crate) fn cpuset(&self) -> Option<CpusetDirs> {
        match (&self.cpuset_v1, &self.unified) {
            (Some(l), _) => Some(CpusetDirs { v1: true, dirs: l.dirs.clone() }),
            (None, Some(l)) => Some(CpusetDirs { v1: false, dirs: l.dirs.clone() }),
            (None, None) => None,
        }
    }
}

impl CgroupFiles {
    /// Finds the process's cgroups and opens their limit files; `Err` when the process is in
    /// none (no cgroup filesystem).
    pub(crate) fn discover(root: &FsRoot) -> Result<Self> {
        let h = Hierarchies::discover(root)?;
        let (version, path) = (h.version, h.path.clone());
        let (cpu_v1, mem_v1, cpuset_v1, unified) = (h.cpu_v1, h.memory_v1, h.cpuset_v1, h.unified);
        let open_all = |dirs: &[String], file: &str| -> Vec<Source> {
            dirs.iter().filter_map(|d| Source::existing(root, format!("{d}/{file}"))).collect()
        };
        let v2 = unified.unwrap_or_default();
        let v2_dirs = &v2.dirs;
        let cpu = match &cpu_v1 {
            Some(levels) => CpuFiles::V1(
                levels
                    .limited()
                    .iter()
                    .filter_map(|d| {
                        let q = Source::existing(root, format!("{d}/cpu.cfs_quota_us"))?;
                        let p = Source::existing(root, format!("{d}/cpu.cfs_period_us"))?;
                        Some((q, p))
                    })
                    .collect(),
            ),
            None => CpuFiles::V2(open_all(v2.limited(), "cpu.max")),
        };
        let (memory_limits, memory_current, memory_v2) = match &mem_v1 {
            Some(levels) => (
                open_all(levels.limited(), "memory.limit_in_bytes"),
                levels
                    .dirs
                    .first()
                    .and_then(|d| Source::existing(root, format!("{d}/memory.usage_in_bytes"))),
                false,
            ),
            None => (
                open_all(v2.limited(), "memory.max"),
                v2_dirs.first().and_then(|d| Source::existing(root, format!("{d}/memory.current"))),
                true,
            ),
        };
        let cpuset = match &cpuset_v1 {
            Some(levels) => open_all(&levels.dirs, "cpuset.effective_cpus"),
            None => open_all(v2_dirs, "cpuset.cpus.effective"),
        };
        let leaf = v2_dirs.first();
        let psi = |file: &str| leaf.and_then(|d| Source::existing(root, format!("{d}/{file}")));
        Ok(CgroupFiles {
            version,
            path,
            cpu,
            memory_limits,
            memory_v2,
            memory_current,
            cpuset,
            memory_pressure: psi("memory.pressure"),
            io_pressure: psi("io.pressure"),
        })
    }

    /// Reads the limits and usage now.
    pub(crate) fn read(&mut self, root: &FsRoot) -> CgroupNow {
        let mut now = CgroupNow::default();
        let problems = &mut now.problems;
        now.cpu_quota = match &mut self.cpu {
            CpuFiles::V2(files) => tightest_quota(files.iter_mut().filter_map(|f| {
                let text = note(problems, f.read(root))?;
                parse_cpu_max(text).map_err(|e| problems.push(format!("{}: {e}", f.path()))).ok()?
            })),
            CpuFiles::V1(files) => tightest_quota(files.iter_mut().filter_map(|(q, p)| {
                let quota: i64 = note(problems, q.read(root))?.trim().parse().ok()?;
                let period: u64 = note(problems, p.read(root))?.trim().parse().ok()?;
                (quota > 0 && period > 0).then_some((quota as u64, period))
            })),
        };
        let v2 = self.memory_v2;
        now.memory_limit_bytes = self
            .memory_limits
            .iter_mut()
            .filter_map(|f| parse_memory_limit(note(problems, f.read(root))?, v2))
            .min();
        now.memory_current_bytes =
            self.memory_current.as_mut().and_then(|f| note(problems, f.read(root))?.trim().parse().ok());
        now.cpuset = self.cpuset.iter_mut().find_map(|f| {
            f.read(root).ok().and_then(|t| cpulist::parse_list(t).ok()).filter(|c| !c.is_empty())
        });
        let mut read_psi = |src: &mut Option<Source>| {
            let f = src.as_mut()?;
            let path = f.path().to_string();
            note(problems, f.read(root).and_then(|t| pressure::parse(t, &path)))
        };
        now.memory_pressure = read_psi(&mut self.memory_pressure);
        now.io_pressure = read_psi(&mut self.io_pressure);
        now
    }
}

/// Keeps a read error as a problem and turns the result into an option.
fn note<T>(problems: &mut Vec<String>, r: Result<T>) -> Option<T> {
    r.map_err(|e| problems.push(e.to_string())).ok()
}

/// The levels of a cgroup inside a hierarchy mounted at `mount`: the cgroup's directory first,
/// then each parent up to the mount point. A path outside the mount's root (a process outside
/// the cgroup namespace seen from inside it) is taken as the mount's root itself.
fn levels(mount: &Mount, path: &str) -> Levels {
    Levels { dirs: level_dirs(mount, path), top_is_root: mount.root == "/" }
}

/// The directories of a cgroup and its parents within one hierarchy.
#[derive(Debug, Clone, Default)]
struct Levels {
    /// The cgroup's directory first, the mount point last.
    dirs: Vec<String>,
    /// The mount point is the hierarchy's true root cgroup (not a container's view of a child).
    top_is_root: bool,
}

impl Levels {
    /// The levels that can carry limits: the true root cgroup never has any (v2 has no
    /// `cpu.max`/`memory.max` there, v1 reports "unlimited"), so it is not read.
    fn limited(&self) -> &[String] {
        match self.dirs.len() {
            n if n > 1 && self.top_is_root => &self.dirs[..n - 1],
            _ if self.top_is_root => &[],
            _ => &self.dirs,
        }
    }
}

fn level_dirs(mount: &Mount, path: &str) -> Vec<String> {
    let rel = if mount.root == "/" {
        Some(path)
    } else {
        path.strip_prefix(mount.root.as_str()).filter(|r| r.is_empty() || r.starts_with('/'))
    };
    let rel = rel.filter(|r| !r.split('/').any(|c| c == "..")).unwrap_or("");
    let base = mount.mount_point.trim_end_matches('/');
    let mut out = Vec::new();
    let mut parts: Vec<&str> = rel.split('/').filter(|c| !c.is_empty()).collect();
    loop {
        out.push(if parts.is_empty() { base.to_string() } else { format!("{base}/{}", parts.join("/")) });
        if parts.pop().is_none() {
            break;
        }
    }
    out
}

/// Parses `cpu.max` (`max 100000` or `50000 100000`): `Ok(None)` = no quota.
pub fn parse_cpu_max(text: &str) -> Result<Option<(u64, u64)>, String> {
    let mut w = text.split_ascii_whitespace();
    let quota = w.next().ok_or("empty cpu.max")?;
    let period: u64 = w.next().unwrap_or("100000").parse().map_err(|_| format!("bad period in {text:?}"))?;
    if quota == "max" {
        return Ok(None);
    }
    let quota: u64 = quota.parse().map_err(|_| format!("bad quota in {text:?}"))?;
    Ok((period > 0).then_some((quota, period)))
}

/// Parses a memory limit file: `max` (v2) or the v1 sentinel mean no limit.
pub fn parse_memory_limit(text: &str, v2: bool) -> Option<u64> {
    let text = text.trim();
    if v2 && text == "max" {
        return None;
    }
    text.parse::<u64>().ok().filter(|&v| v < V1_UNLIMITED)
}

/// The quota/period pair that allows the fewest CPUs.
fn tightest_quota(levels: impl Iterator<Item = (u64, u64)>) -> Option<(u64, u64)> {
    levels.min_by(|a, b| (a.0 as f64 / a.1 as f64).total_cmp(&(b.0 as f64 / b.1 as f64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount(point: &str, root: &str) -> Mount {
        let line = format!("1 0 0:1 {root} {point} rw - cgroup2 cgroup2 rw");
        mountinfo::parse(&line).0.remove(0)
    }

    #[test]
    fn levels_walk_up_to_the_mount() {
        let m = mount("/sys/fs/cgroup", "/");
        let ab = levels(&m, "/a/b");
        assert_eq!(ab.dirs, vec!["/sys/fs/cgroup/a/b", "/sys/fs/cgroup/a", "/sys/fs/cgroup"]);
        assert_eq!(ab.limited(), &ab.dirs[..2], "the true root cgroup has no limits");
        let top = levels(&m, "/");
        assert_eq!((top.dirs.as_slice(), top.limited().len()), (&["/sys/fs/cgroup".to_string()][..], 0));
        let docker = mount("/sys/fs/cgroup", "/docker/x");
        let inside = levels(&docker, "/docker/x");
        assert_eq!(inside.dirs, vec!["/sys/fs/cgroup"]);
        assert_eq!(inside.limited(), &inside.dirs[..], "a container's own cgroup can be limited");
        assert_eq!(levels(&docker, "/other").dirs, vec!["/sys/fs/cgroup"]);
        assert_eq!(levels(&m, "/../..").dirs, vec!["/sys/fs/cgroup"]);
    }

    #[test]
    fn limits_and_sentinels() {
        assert_eq!(parse_cpu_max("max 100000\n"), Ok(None));
        assert_eq!(parse_cpu_max("50000 100000\n"), Ok(Some((50000, 100000))));
        assert!(parse_cpu_max("x 1").is_err());
        assert_eq!(parse_memory_limit("max\n", true), None);
        assert_eq!(parse_memory_limit("268435456\n", true), Some(268435456));
        assert_eq!(parse_memory_limit("9223372036854771712\n", false), None);
        assert_eq!(parse_memory_limit("9223372036854710272\n", false), None);
        assert_eq!(parse_memory_limit("garbage", false), None);
        assert_eq!(tightest_quota([(200000, 100000), (50000, 100000)].into_iter()), Some((50000, 100000)));
    }
}
