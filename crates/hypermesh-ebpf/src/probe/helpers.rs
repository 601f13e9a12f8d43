//! Helper availability per program type (full probe only): loads `call HELPER; exit` for each
//! pair and reads the verifier log, as libbpf does. Spread over all CPUs, since these are some
//! 6,000 loads.
//!
//! Debian's bpftool 7.1 reports every helper it knows as available for every program type on
//! kernels ≥ 6.x: it only looks for "invalid func"/"unknown func" in the log, while such kernels
//! say "program of this type cannot use helper". We recognise all three messages, so our lists
//! are subsets of bpftool's there (libbpf ≥ 1.7 agrees with us).

use super::helper_names::HELPER_NAMES;
use super::types::{PROG_TYPES, trivial_load};
use super::verdict::{Finding, Verdict};
use crate::sys::{self, Insn};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Verifier messages meaning "this helper is not available to this program type".
const UNAVAILABLE: &[&str] = &["invalid func ", "unknown func ", "program of this type cannot use helper "];

/// Program types whose helpers cannot be probed without a real attach target (libbpf skips them).
const NEEDS_TARGET: &[&str] = &["tracing", "ext", "lsm", "struct_ops"];

/// Whether `helper` can be called from programs of type `prog_type`.
pub fn helper_available(prog_type: u32, helper: u32) -> bool {
    let insns = [Insn::new(0x85, 0, 0, 0, helper as i32), Insn::new(0x95, 0, 0, 0, 0)];
    let p = trivial_load(prog_type, &insns);
    let mut log = [0u8; 512];
    match sys::prog_load(&p, Some(&mut log)) {
        Ok(_) => true,
        // No log: the load failed before the verifier (type unknown, or attr refused).
        Err(e) if e.log.is_empty() => false,
        Err(e) => !UNAVAILABLE.iter().any(|m| e.log.contains(m)),
    }
}

/// The program types a probe found supported, by name: those whose helpers can be probed.
pub fn supported_types(program_types: &BTreeMap<String, Finding>) -> Vec<&str> {
    program_types.iter().filter(|(_, f)| f.verdict == Verdict::Supported).map(|(n, _)| n.as_str()).collect()
}

/// For each given program type (by name), the names of the helpers it may call. Types that
/// need an attach target are left out.
pub fn probe_helpers(prog_types: &[&str]) -> BTreeMap<String, Vec<String>> {
    let types: Vec<u32> = prog_types
        .iter()
        .filter(|n| !NEEDS_TARGET.contains(n))
        .filter_map(|n| PROG_TYPES.iter().position(|p| p == n))
        .map(|i| i as u32)
        .collect();
    let helpers = HELPER_NAMES.len() - 1;
    let jobs = types.len() * helpers;
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let results: Vec<Vec<(usize, bool)>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let job = next.fetch_add(1, Ordering::Relaxed);
                        if job >= jobs {
                            break out;
                        }
                        let (t, h) = (types[job / helpers], (job % helpers + 1) as u32);
                        out.push((job, helper_available(t, h)));
                    }
                })
            })
            .collect();
        workers.into_iter().filter_map(|w| w.join().ok()).collect()
    });
    let mut map: BTreeMap<String, Vec<String>> =
        types.iter().map(|t| (PROG_TYPES[*t as usize].to_string(), Vec::new())).collect();
    let mut done: Vec<(usize, bool)> = results.into_iter().flatten().collect();
    done.sort_unstable();
    for (job, _) in done.into_iter().filter(|(_, ok)| *ok) {
        let t = PROG_TYPES[types[job / helpers] as usize];
        if let Some(list) = map.get_mut(t) {
            list.push(HELPER_NAMES[job % helpers + 1].to_string());
        }
    }
    map
}
