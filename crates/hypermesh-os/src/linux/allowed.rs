//! The allowed set: the CPUs and memory nodes this process may use, beside what the machine has
//! (hwloc's "allowed" vs "complete" sets). Inside a container, a Kubernetes pod or a Slurm job
//! the cgroup's cpuset narrows both.
//!
//! Sources, in order: the process's cgroup cpuset, found from `/proc/self/cgroup` and
//! `/proc/self/mountinfo` (v1: `cpuset.effective_cpus`/`cpuset.effective_mems`, else
//! `cpuset.cpus`/`cpuset.mems`; v2: `cpuset.cpus.effective`/`cpuset.mems.effective`), read at
//! the process's cgroup, else at the nearest parent that has the file (a v2 cgroup without the
//! cpuset controller enabled uses its parent's); then `Cpus_allowed_list`/`Mems_allowed_list`
//! of `/proc/self/status`. Under an alternate root all of these are the capture's.

use crate::cpulist;
use crate::error::{Error, Result};
use crate::model::{AllowedSource, AllowedSourceKind};
use crate::profile::Problems;
use crate::root::FsRoot;
use crate::usage::cgroup::Hierarchies;

/// CPUs or memory nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// Logical CPUs.
    Cpus,
    /// NUMA memory nodes.
    Mems,
}

impl Resource {
    /// The cpuset file names to try in a v1 hierarchy, best first.
    fn v1_files(self) -> [&'static str; 2] {
        match self {
            Resource::Cpus => ["cpuset.effective_cpus", "cpuset.cpus"],
            Resource::Mems => ["cpuset.effective_mems", "cpuset.mems"],
        }
    }

    /// The cpuset file name in the unified hierarchy.
    fn v2_file(self) -> &'static str {
        match self {
            Resource::Cpus => "cpuset.cpus.effective",
            Resource::Mems => "cpuset.mems.effective",
        }
    }

    /// The `/proc/self/status` key.
    fn status_key(self) -> &'static str {
        match self {
            Resource::Cpus => "Cpus_allowed_list",
            Resource::Mems => "Mems_allowed_list",
        }
    }
}

/// The allowed CPUs or memory nodes and where they were read; `None` when no source exists
/// (a hand-made tree without /proc/self). A source that exists but cannot be read or parsed is
/// added to `problems` and the next one is tried.
pub fn detect(
    root: &FsRoot,
    resource: Resource,
    problems: &mut Problems,
) -> Option<(Vec<u32>, AllowedSource)> {
    if let Some(found) = from_cgroup(root, resource, problems) {
        return Some(found);
    }
    from_status(root, resource, problems)
}

/// From the cgroup cpuset: the first level, from the process's cgroup up, whose file exists
/// and is not empty (a v1 cpuset that was never set is empty).
fn from_cgroup(
    root: &FsRoot,
    resource: Resource,
    problems: &mut Problems,
) -> Option<(Vec<u32>, AllowedSource)> {
    let cpuset = Hierarchies::discover(root).ok()?.cpuset()?;
    let (kind, files): (_, &[&str]) = if cpuset.v1 {
        (AllowedSourceKind::CgroupV1, &resource.v1_files())
    } else {
        (AllowedSourceKind::CgroupV2, &[resource.v2_file()])
    };
    for dir in &cpuset.dirs {
        for file in files {
            let path = format!("{dir}/{file}");
            match root.read_trimmed(&path) {
                Ok(text) if text.is_empty() => continue,
                Ok(text) => match cpulist::parse_list(&text) {
                    Ok(list) => return Some((list, AllowedSource { kind, path })),
                    Err(m) => problems.push(Error::parse(&path, m)),
                },
                Err(e) if e.is_not_found() => continue,
                Err(e) => problems.push(e),
            }
        }
    }
    None
}

/// From `/proc/self/status`.
fn from_status(
    root: &FsRoot,
    resource: Resource,
    problems: &mut Problems,
) -> Option<(Vec<u32>, AllowedSource)> {
    let path = "/proc/self/status";
    let text = match root.read_string(path) {
        Ok(t) => t,
        Err(e) if e.is_not_found() => return None,
        Err(e) => {
            problems.push(e);
            return None;
        }
    };
    let source = AllowedSource { kind: AllowedSourceKind::ProcStatus, path: path.to_string() };
    match parse_status(&text, resource.status_key()) {
        Ok(Some(list)) => Some((list, source)),
        Ok(None) => None,
        Err(m) => {
            problems.push(Error::parse(path, m));
            None
        }
    }
}

/// The list under `key` in `/proc/PID/status` text; `Ok(None)` when the key is absent.
pub fn parse_status(text: &str, key: &str) -> Result<Option<Vec<u32>>, String> {
    let Some(value) = text.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix(':')) else {
        return Ok(None);
    };
    cpulist::parse_list(value.trim()).map(Some).map_err(|m| format!("{key}: {m}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lists() {
        let text = "Name:\tx\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1,4\nMems_allowed_list:\t0\n";
        assert_eq!(parse_status(text, "Cpus_allowed_list"), Ok(Some(vec![0, 1, 4])));
        assert_eq!(parse_status(text, "Mems_allowed_list"), Ok(Some(vec![0])));
        assert_eq!(parse_status("Name:\tx\n", "Mems_allowed_list"), Ok(None));
        assert!(parse_status("Cpus_allowed_list:\tx-y\n", "Cpus_allowed_list").is_err());
    }
}
