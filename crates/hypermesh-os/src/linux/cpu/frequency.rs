//! CPU frequencies from cpufreq: one read set per policy (`cpufreq/policy*`), not per CPU.
//! Trees without policy directories (old kernels, some captures) fall back to `cpuN/cpufreq`
//! (`cpuinfo_{min,max}_freq`, `base_frequency` where present).

use crate::cpulist;
use crate::model::FrequencyRange;
use crate::root::FsRoot;

/// One cpufreq policy: the CPUs it drives and their limits, in kHz.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policy {
    /// CPUs of the policy.
    pub cpus: Vec<u32>,
    /// Hardware minimum (`cpuinfo_min_freq`, else `scaling_min_freq`).
    pub min_khz: Option<u64>,
    /// Hardware maximum (`cpuinfo_max_freq`, else `scaling_max_freq`).
    pub max_khz: Option<u64>,
    /// `base_frequency` (intel_pstate).
    pub base_khz: Option<u64>,
    /// `scaling_cur_freq` (live value).
    pub current_khz: Option<u64>,
}

/// Reads every policy. Without policy directories (kernels before 4.3 have a `cpufreq`
/// directory holding only governors, or none at all), each of `cpus` with a `cpuN/cpufreq`
/// directory is a policy of its own (the first CPU is asked first: without its directory the
/// host has no cpufreq driver, and no other CPU is asked); a host without cpufreq yields no
/// policies.
pub fn policies(root: &FsRoot, cpus: &[u32]) -> Vec<Policy> {
    let policies: Vec<Policy> = root
        .read_dir("/sys/devices/system/cpu/cpufreq")
        .unwrap_or_default()
        .iter()
        .filter_map(|n| n.strip_prefix("policy").and_then(|i| i.parse::<u32>().ok()).map(|i| (i, n)))
        .map(|(i, n)| {
            let dir = format!("/sys/devices/system/cpu/cpufreq/{n}");
            let cpus = ["related_cpus", "affected_cpus"]
                .iter()
                .find_map(|f| root.read_opt(&format!("{dir}/{f}")).and_then(|t| cpulist::parse_list(&t).ok()))
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| vec![i]);
            read_policy(root, &dir, cpus)
        })
        .collect();
    if !policies.is_empty() {
        return policies;
    }
    let dir = |c: &u32| format!("/sys/devices/system/cpu/cpu{c}/cpufreq");
    if !cpus.first().is_some_and(|c| root.exists(&dir(c))) {
        return Vec::new();
    }
    cpus.iter().filter(|c| root.exists(&dir(c))).map(|c| read_policy(root, &dir(c), vec![*c])).collect()
}

/// Reads the limits in `dir` for `cpus` (a per-CPU `cpuN/cpufreq` directory speaks for CPU N
/// whatever its `related_cpus` says).
fn read_policy(root: &FsRoot, dir: &str, cpus: Vec<u32>) -> Policy {
    let get = |name: &str| root.read_opt_parsed::<u64>(&format!("{dir}/{name}"));
    Policy {
        cpus,
        min_khz: get("cpuinfo_min_freq").or_else(|| get("scaling_min_freq")),
        max_khz: get("cpuinfo_max_freq").or_else(|| get("scaling_max_freq")),
        base_khz: get("base_frequency"),
        current_khz: get("scaling_cur_freq"),
    }
}

/// Range over all policies; `None` when cpufreq reports nothing.
pub fn range(policies: &[Policy]) -> Option<FrequencyRange> {
    let r = FrequencyRange {
        min_khz: policies.iter().filter_map(|p| p.min_khz).min(),
        max_khz: policies.iter().filter_map(|p| p.max_khz).max(),
        base_khz: policies.iter().filter_map(|p| p.base_khz).max(),
    };
    (r != FrequencyRange::default()).then_some(r)
}
