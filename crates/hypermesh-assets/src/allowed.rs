//! The part of the machine this process may use: its cgroup cpuset (issue 18.6). Adapters offer
//! only what is allowed; the inventory says when that is less than the machine has.

use hypermesh_os::HostProfile;
use hypermesh_os::cpulist::format_list;
use hypermesh_os::model::{AllowedSource, AllowedSourceKind, Cpu};
use std::collections::BTreeSet;

/// Online CPUs (from the online list, else the per-CPU flags).
fn online(cpu: &Cpu) -> BTreeSet<u32> {
    if cpu.online.is_empty() {
        cpu.logical.iter().filter(|l| l.online).map(|l| l.id).collect()
    } else {
        cpu.online.iter().copied().collect()
    }
}

/// CPUs this process may use: the allowed set that are online (a v1 `cpuset.cpus` may list
/// offline CPUs), or every online CPU when no allowed set could be read.
pub fn usable_cpus(cpu: &Cpu) -> BTreeSet<u32> {
    let online = online(cpu);
    match &cpu.allowed {
        Some(allowed) => allowed.iter().copied().filter(|c| online.contains(c)).collect(),
        None => online,
    }
}

/// True when this process may allocate memory on NUMA node `node` (always true when no allowed
/// set could be read).
pub fn node_allowed(profile: &HostProfile, node: u32) -> bool {
    profile.numa.as_ref().and_then(|n| n.allowed_nodes.as_ref()).is_none_or(|nodes| nodes.contains(&node))
}

/// One line per set this process may use that is smaller than the machine's, with its source:
/// `cpuset allows CPUs 0-1 of 0-3 (cgroup_v1 /sys/fs/cgroup/cpuset/job/cpuset.effective_cpus)`.
pub fn notes(profile: &HostProfile) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(cpu) = &profile.cpu
        && cpu.allowed.is_some()
    {
        let (usable, online) = (usable_cpus(cpu), online(cpu));
        if usable != online {
            notes.push(note("CPUs", &usable, &online, cpu.allowed_source.as_ref()));
        }
    }
    if let Some(numa) = &profile.numa
        && let Some(allowed) = &numa.allowed_nodes
    {
        let nodes: BTreeSet<u32> = numa.nodes.iter().map(|n| n.id).collect();
        let usable: BTreeSet<u32> = nodes.iter().copied().filter(|n| allowed.contains(n)).collect();
        if usable != nodes {
            notes.push(note("NUMA nodes", &usable, &nodes, numa.allowed_source.as_ref()));
        }
    }
    notes
}

fn note(what: &str, usable: &BTreeSet<u32>, all: &BTreeSet<u32>, source: Option<&AllowedSource>) -> String {
    let list = |s: &BTreeSet<u32>| {
        if s.is_empty() { "none".to_string() } else { format_list(&s.iter().copied().collect::<Vec<_>>()) }
    };
    let from = source
        .map(|s| {
            let kind = match s.kind {
                AllowedSourceKind::CgroupV2 => "cgroup_v2",
                AllowedSourceKind::CgroupV1 => "cgroup_v1",
                AllowedSourceKind::ProcStatus => "proc_status",
            };
            format!(" ({kind} {})", s.path)
        })
        .unwrap_or_default();
    format!("cpuset allows {what} {} of {}{from}; only those are offered", list(usable), list(all))
}
