//! Heterogeneous core kinds: Intel hybrid (P/E cores, from the `cpu_core`/`cpu_atom` PMUs),
//! ARM big.LITTLE (by `CPU part`, then `cpu_capacity`), else by clearly different maximum
//! frequencies; a homogeneous host gets one `uniform` kind.

use super::cpuinfo::{CpuInfo, arm_part_name};
use super::topology::Topology;
use crate::cpulist;
use crate::model::CoreKind;
use crate::root::FsRoot;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Everything per CPU that can tell kinds apart.
pub struct Inputs<'a> {
    /// Parsed cpuinfo (ARM parts, the `hybrid_cpu` flag).
    pub cpuinfo: &'a CpuInfo,
    /// Online CPUs, sorted.
    pub online: &'a [u32],
    /// Topology of the online CPUs.
    pub topology: &'a Topology,
    /// Maximum frequency per CPU (kHz).
    pub max_khz: &'a HashMap<u32, u64>,
    /// ARM `cpu_capacity` per CPU.
    pub capacity: &'a HashMap<u32, u32>,
}

/// Two maximum frequencies this far apart (ratio) are different kinds, closer ones are the
/// same kind with a turbo bin of difference (Intel Turbo Boost Max 3.0 favoured cores).
const FREQ_KIND_RATIO: f64 = 1.10;

/// Groups the online CPUs into kinds.
pub fn detect(root: &FsRoot, inp: &Inputs) -> Vec<CoreKind> {
    if inp.cpuinfo.has_flag("hybrid_cpu")
        && let Some(kinds) = intel_hybrid(root, inp)
    {
        return kinds;
    }
    let arm_parts: BTreeMap<(u32, u32), Vec<u32>> = group(inp.online, |c| {
        let p = inp.cpuinfo.processor(c)?;
        Some((p.arm_implementer?, p.arm_part?))
    });
    if arm_parts.len() > 1 {
        let groups = arm_parts
            .iter()
            .map(|(&(imp, part), cpus)| (arm_part_name(imp, part).map(str::to_string), cpus.clone()))
            .collect();
        return ranked(inp, groups, "cpu part");
    }
    let capacities = group(inp.online, |c| inp.capacity.get(&c).copied());
    if capacities.len() > 1 {
        return ranked(inp, capacities.into_values().map(|c| (None, c)).collect(), "cpu capacity");
    }
    let freq_groups = frequency_groups(inp);
    if freq_groups.len() > 1 {
        return ranked(inp, freq_groups.into_iter().map(|c| (None, c)).collect(), "max frequency");
    }
    vec![kind(inp, "uniform".into(), None, None, inp.online.to_vec())]
}

fn intel_hybrid(root: &FsRoot, inp: &Inputs) -> Option<Vec<CoreKind>> {
    let read = |pmu: &str| {
        root.read_opt(&format!("/sys/devices/{pmu}/cpus")).and_then(|t| cpulist::parse_list(&t).ok()).map(
            |mut c| {
                c.retain(|x| inp.online.binary_search(x).is_ok());
                c
            },
        )
    };
    let p = read("cpu_core")?;
    let e = read("cpu_atom").unwrap_or_default();
    let basis = Some("intel_hybrid pmu".to_string());
    let mut kinds = vec![kind(inp, "performance".into(), None, basis.clone(), p)];
    if !e.is_empty() {
        kinds.push(kind(inp, "efficiency".into(), None, basis, e));
    }
    Some(kinds)
}

/// CPUs grouped by a key; CPUs without a key are left out.
fn group<K: Ord>(cpus: &[u32], key: impl Fn(u32) -> Option<K>) -> BTreeMap<K, Vec<u32>> {
    let mut map: BTreeMap<K, Vec<u32>> = BTreeMap::new();
    for &c in cpus {
        if let Some(k) = key(c) {
            map.entry(k).or_default().push(c);
        }
    }
    map
}

/// Splits CPUs where sorted maximum frequencies jump by more than [`FREQ_KIND_RATIO`].
fn frequency_groups(inp: &Inputs) -> Vec<Vec<u32>> {
    let by_freq = group(inp.online, |c| inp.max_khz.get(&c).copied());
    let mut groups: Vec<(u64, Vec<u32>)> = Vec::new();
    for (freq, cpus) in by_freq {
        match groups.last_mut() {
            Some((top, g)) if (freq as f64) < (*top as f64) * FREQ_KIND_RATIO => {
                *top = freq;
                g.extend(cpus);
            }
            _ => groups.push((freq, cpus)),
        }
    }
    groups
        .into_iter()
        .map(|(_, mut g)| {
            g.sort_unstable();
            g
        })
        .collect()
}

/// Names groups by rank (capacity, then maximum frequency): the strongest `performance`, the
/// weakest `efficiency`, any between `mid`. Groups that cannot be ranked keep their model name.
fn ranked(inp: &Inputs, groups: Vec<(Option<String>, Vec<u32>)>, basis: &str) -> Vec<CoreKind> {
    let score = |cpus: &[u32]| {
        let cap = cpus.iter().filter_map(|c| inp.capacity.get(c)).max().copied();
        let freq = cpus.iter().filter_map(|c| inp.max_khz.get(c)).max().copied();
        (cap, freq)
    };
    let mut scored: Vec<_> = groups.into_iter().map(|(m, c)| (score(&c), m, c)).collect();
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    let distinct: HashSet<_> = scored.iter().map(|s| s.0).collect();
    let rankable = distinct.len() == scored.len() && !distinct.contains(&(None, None));
    let last = scored.len() - 1;
    scored
        .into_iter()
        .enumerate()
        .map(|(i, (_, model, cpus))| {
            let name = match (rankable, i) {
                (false, _) => model.clone().unwrap_or_else(|| format!("kind {i}")),
                (true, 0) => "performance".into(),
                (true, i) if i == last => "efficiency".into(),
                (true, _) => "mid".into(),
            };
            kind(inp, name, model, Some(basis.to_string()), cpus)
        })
        .collect()
}

fn kind(
    inp: &Inputs,
    name: String,
    model: Option<String>,
    basis: Option<String>,
    cpus: Vec<u32>,
) -> CoreKind {
    let cores: HashSet<usize> =
        cpus.iter().filter_map(|c| inp.topology.places.get(c)).map(|p| p.core_index).collect();
    CoreKind {
        name,
        model,
        basis,
        cores: cores.len() as u32,
        max_frequency_khz: cpus.iter().filter_map(|c| inp.max_khz.get(c)).max().copied(),
        cpus,
    }
}
