//! CPU assets: the logical CPUs this process may use (allowed and online) of each NUMA node
//! (or package), in milli-CPUs.

use crate::adapter::{AssetAdapter, HostView, section_missing, share};
use crate::allowed::usable_cpus;
use crate::asset::{Asset, Health};
use crate::kind::AssetKind;
use hypermesh_os::Section;
use hypermesh_os::cpulist::format_list;
use hypermesh_os::model::Cpu;
use std::collections::{BTreeMap, BTreeSet};

/// Groups logical CPUs by NUMA node (by package when NUMA is unknown).
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuAdapter;

/// How a group of CPUs is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    Numa(u32),
    Package(u32),
    All,
}

impl Group {
    fn key(self) -> String {
        match self {
            Group::Numa(n) => format!("numa{n}"),
            Group::Package(p) => format!("package{p}"),
            Group::All => "all".into(),
        }
    }
}

impl AssetAdapter for CpuAdapter {
    fn kind(&self) -> AssetKind {
        AssetKind::Cpu
    }

    fn assets(&self, host: &HostView<'_>, _problems: &mut Vec<String>) -> Result<Vec<Asset>, String> {
        let cpu = host.profile.cpu.as_ref().ok_or_else(|| section_missing(host.profile, Section::Cpu))?;
        let groups = group_cpus(host, cpu);
        if groups.is_empty() {
            return Err(match cpu.allowed {
                Some(_) => "the cpu section lists no online CPU this process may use".into(),
                None => "the cpu section lists no online CPU".into(),
            });
        }
        let host_capacity: u64 = groups.values().map(|c| c.len() as u64 * 1000).sum();
        let mut pool = host_capacity.saturating_sub(host.config.reserve.cpu_millis);
        if let Some(limit) = host.live.cpu_limit_cpus.filter(|l| l.is_finite() && *l >= 0.0) {
            pool = pool.min((limit * 1000.0) as u64);
        }
        Ok(groups
            .into_iter()
            .map(|(group, cpus)| {
                let capacity = cpus.len() as u64 * 1000;
                let ids: Vec<u32> = cpus.iter().copied().collect();
                Asset {
                    id: format!("cpu:{}", group.key()),
                    kind: AssetKind::Cpu,
                    description: describe(cpu, &ids),
                    numa_node: match group {
                        Group::Numa(n) => Some(n),
                        _ => None,
                    },
                    solid_state: None,
                    capacity,
                    allocatable: share(pool, capacity, host_capacity),
                    utilisation: mean_utilisation(host, &ids),
                    health: Health::default(),
                    sharing: host.config.sharing,
                    hardware: ids.iter().map(|c| format!("cpu{c}")).collect(),
                    cpus: ids,
                }
            })
            .collect())
    }
}

/// Usable CPUs (allowed and online) by group: NUMA node from the numa section or the per-CPU
/// topology, else package. A node whose memory is not allowed keeps its allowed CPUs: running
/// there is allowed, its memory is then remote.
fn group_cpus(host: &HostView<'_>, cpu: &Cpu) -> BTreeMap<Group, BTreeSet<u32>> {
    let node_of = |id: u32| -> Option<u32> {
        host.profile
            .numa
            .as_ref()
            .and_then(|n| n.nodes.iter().find(|node| node.cpus.contains(&id)).map(|node| node.id))
            .or_else(|| cpu.logical.iter().find(|l| l.id == id).and_then(|l| l.numa_node))
    };
    let package_of = |id: u32| cpu.logical.iter().find(|l| l.id == id).and_then(|l| l.package);
    let mut groups: BTreeMap<Group, BTreeSet<u32>> = BTreeMap::new();
    for id in usable_cpus(cpu) {
        let group =
            node_of(id).map(Group::Numa).or_else(|| package_of(id).map(Group::Package)).unwrap_or(Group::All);
        groups.entry(group).or_default().insert(id);
    }
    groups
}

/// `CPUs 0-3, 2 cores, MODEL`.
fn describe(cpu: &Cpu, ids: &[u32]) -> String {
    let cores: BTreeSet<(Option<u32>, Option<u32>)> = cpu
        .logical
        .iter()
        .filter(|l| ids.contains(&l.id) && l.core.is_some())
        .map(|l| (l.package, l.core))
        .collect();
    let mut text = format!("CPUs {}", format_list(ids));
    if !cores.is_empty() {
        text += &format!(", {} cores", cores.len());
    }
    if let Some(model) = &cpu.model {
        text += &format!(", {model}");
    }
    text
}

/// Mean busy share over the group, only when the sampler reported every CPU of it.
fn mean_utilisation(host: &HostView<'_>, ids: &[u32]) -> Option<f64> {
    let values: Option<Vec<f64>> = ids.iter().map(|id| host.live.cpu_utilisation.get(id).copied()).collect();
    let values = values?;
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}
