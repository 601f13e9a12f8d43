//! The probe against `bpftool feature probe --json`, item by item. Every item both report must
//! agree; the known, deliberate differences are spelled out where they are allowed.

#![cfg(native_linux)]

mod common;

use hypermesh_ebpf::probe::{self, Probe, ProbeOptions, Verdict};
use hypermesh_os::FsRoot;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

fn bpftool_probe() -> Value {
    let out = Command::new("bpftool").args(["feature", "probe", "--json"]).output().expect("run bpftool");
    assert!(out.status.success(), "bpftool feature probe failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("bpftool JSON")
}

fn both() -> Option<(Probe, Value)> {
    if !common::root_or_skip("probe vs bpftool") || !common::tool_or_skip("bpftool", "bpftool") {
        return None;
    }
    Some((probe::probe(&FsRoot::host(), ProbeOptions::full()).expect("probe"), bpftool_probe()))
}

/// Types: bpftool's `true` must be our `supported` and its `false` our `absent`, except that
/// (1) where the kernel answers EPERM we say `denied` and bpftool (which cannot tell) says
/// false; (2) `tracing`: bpftool loads it as fentry, which this kernel refuses with EPERM,
/// while we load it as tp_btf, which works; then our `attach.fentry` must be `denied`.
fn agree(section: &str, ours: &Probe, name: &str, theirs: bool) -> Result<(), String> {
    let map = if section == "program_types" { &ours.program_types } else { &ours.map_types };
    let Some(f) = map.get(name) else { return Err(format!("{section}.{name}: bpftool knows it, we do not")) };
    let ok = match (theirs, f.verdict) {
        (true, Verdict::Supported) | (false, Verdict::Absent) | (false, Verdict::Denied) => true,
        (false, Verdict::Supported) if name == "tracing" => ours.attach["fentry"].verdict == Verdict::Denied,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{section}.{name}: bpftool {theirs}, ours {:?} ({})", f.verdict, f.detail))
    }
}

#[test]
fn types_agree_with_bpftool() {
    let Some((ours, theirs)) = both() else { return };
    let mut errors = Vec::new();
    let mut compared = 0;
    for (section, suffix) in [("program_types", "_prog_type"), ("map_types", "_map_type")] {
        for (key, v) in theirs[section].as_object().expect("bpftool section") {
            let name = key.trim_start_matches("have_").trim_end_matches(suffix);
            compared += 1;
            if let Err(e) = agree(section, &ours, name, v.as_bool().unwrap_or(false)) {
                errors.push(e);
            }
        }
    }
    assert!(compared > 50, "bpftool reported too few types ({compared})");
    assert!(errors.is_empty(), "disagreements:\n{}", errors.join("\n"));
    // We know more types than bpftool 7.1 (newer kernels' types), all with a verdict.
    assert!(ours.program_types.contains_key("netfilter") && ours.map_types.contains_key("arena"));
}

#[test]
fn system_config_agrees_with_bpftool() {
    let Some((ours, theirs)) = both() else { return };
    let sc = &theirs["system_config"];
    let num = |k: &str| sc[k].as_i64();
    assert_eq!(ours.unprivileged_bpf_disabled, num("unprivileged_bpf_disabled"));
    assert_eq!(ours.jit.enable, num("bpf_jit_enable"));
    assert_eq!(ours.jit.harden, num("bpf_jit_harden"));
    assert_eq!(ours.jit.kallsyms, num("bpf_jit_kallsyms"));
    assert_eq!(ours.jit.limit, num("bpf_jit_limit"));
    assert_eq!(Some(ours.bpf_syscall), theirs["syscall_config"]["have_bpf_syscall"].as_bool());
    let mut compared = 0;
    for (k, v) in sc.as_object().unwrap().iter().filter(|(k, _)| k.starts_with("CONFIG_")) {
        if let Some(mine) = ours.config.get(k) {
            assert_eq!(mine.as_deref(), v.as_str(), "{k}");
            compared += 1;
        }
    }
    assert!(compared >= 30, "only {compared} CONFIG_ items compared");
    assert!(ours.config.get("CONFIG_BPF").is_some_and(|v| v.is_some()), "kernel config was read");
}

/// Helpers: bpftool 7.1 on kernels ≥ 6.x lists every helper it knows for every program type
/// (it misses the newer "program of this type cannot use helper" message), so it over-reports:
/// for each type both report, the helpers bpftool knows that we find must be in its list. It
/// skips a few helpers outside `full` mode (trace_printk, probe_write_user...) and knows none
/// added after it, so only helpers it lists somewhere are compared.
#[test]
fn helpers_are_a_subset_of_bpftool() {
    let Some((ours, theirs)) = both() else { return };
    let helpers = ours.helpers.as_ref().expect("full probe lists helpers");
    let lists: Vec<(&str, BTreeSet<&str>)> = theirs["helpers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let set = v.as_array().unwrap().iter().filter_map(Value::as_str).collect();
            (k.trim_end_matches("_available_helpers"), set)
        })
        .collect();
    let known: BTreeSet<&str> = lists.iter().flat_map(|(_, s)| s.iter().copied()).collect();
    let mut compared = 0;
    for (t, theirs) in &lists {
        let Some(mine) = helpers.get(*t) else { continue };
        let extra: Vec<&String> =
            mine.iter().filter(|h| known.contains(h.as_str()) && !theirs.contains(h.as_str())).collect();
        assert!(extra.is_empty(), "{t}: helpers we found that bpftool does not list: {extra:?}");
        compared += 1;
    }
    assert!(compared >= 20, "only {compared} program types compared");
    assert!(helpers["xdp"].iter().any(|h| h == "bpf_map_lookup_elem"));
    assert!(!helpers["socket_filter"].iter().any(|h| h == "bpf_xdp_adjust_head"), "XDP-only helper");
}

#[test]
fn attach_verdicts_are_real() {
    let Some((ours, _)) = both() else { return };
    // Each hook kind has a verdict; a supported prog type whose attach fails is reported, not hidden.
    for hook in ["kprobe", "tracepoint", "raw_tracepoint", "tp_btf", "fentry", "xdp", "cgroup"] {
        let f = &ours.attach[hook];
        assert!(f.verdict != Verdict::Unknown, "attach.{hook} unknown: {}", f.detail);
    }
    let pmu = std::path::Path::new("/sys/bus/event_source/devices/kprobe").exists();
    assert_eq!(
        ours.attach["kprobe"].verdict == Verdict::Supported,
        pmu,
        "kprobe attach follows the kprobe PMU"
    );
    let json = serde_json::to_value(&ours).unwrap();
    for path in [
        "/kernel/release",
        "/btf",
        "/jit",
        "/lockdown",
        "/capabilities",
        "/program_types/xdp",
        "/map_types/hash",
        "/attach/kprobe",
    ] {
        assert!(json.pointer(path).is_some(), "JSON lacks {path}");
    }
    assert!(
        ["supported", "absent", "denied", "unknown"]
            .contains(&json["attach"]["tracepoint"].as_str().unwrap())
    );
}
