//! Attachability, which bpftool does not check: a type that loads may still fail to attach
//! (kprobe programs load on a kernel without CONFIG_KPROBES). Each hook kind gets a trivial
//! program really attached and at once detached (links closed on drop).

use super::mounts::Mounts;
use super::types::{prog_type_number, trivial_load};
use super::verdict::{Finding, Verdict};
use crate::btf_index::{BtfIndex, KIND_FUNC, KIND_TYPEDEF};
use crate::sys::{self, Insn};
use hypermesh_os::FsRoot;
use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, OwnedFd};

/// Hook kinds, as named in the probe's `attach` map.
pub const HOOKS: [&str; 7] = ["kprobe", "tracepoint", "raw_tracepoint", "tp_btf", "fentry", "xdp", "cgroup"];

/// `BPF_PERF_EVENT` attach type.
const ATTACH_PERF_EVENT: u32 = 41;
/// `BPF_XDP` attach type.
const ATTACH_XDP: u32 = 37;
/// `BPF_CGROUP_INET_INGRESS` attach type.
const ATTACH_CGROUP_INGRESS: u32 = 0;
/// `BPF_TRACE_RAW_TP` / `BPF_TRACE_FENTRY` expected attach types.
const TRACE_RAW_TP: u32 = 23;
const TRACE_FENTRY: u32 = 24;
/// `XDP_FLAGS_SKB_MODE`: generic XDP, works on any device and leaves drivers alone.
const XDP_FLAGS_SKB_MODE: u32 = 2;
/// `PERF_TYPE_TRACEPOINT`.
const PERF_TYPE_TRACEPOINT: u32 = 2;
/// The kprobe PMU's type file.
const KPROBE_PMU: &str = "/sys/bus/event_source/devices/kprobe/type";

/// What the attach probes need from the rest of the probe.
#[derive(Clone)]
pub struct AttachEnv<'a> {
    /// Filesystem root for /sys and tracefs reads.
    pub root: &'a FsRoot,
    /// Where tracefs is mounted, or why it is not.
    pub tracefs: Result<String, String>,
    /// Where the cgroup2 hierarchy is mounted.
    pub cgroup2: Option<String>,
    /// The kernel's BTF, when readable.
    pub btf: Option<&'a BtfIndex>,
}

impl<'a> AttachEnv<'a> {
    /// Looks up tracefs (mounting it when `mount` and missing) and cgroup2.
    pub fn new(root: &'a FsRoot, mounts: &mut Mounts, mount: bool, btf: Option<&'a BtfIndex>) -> Self {
        let tracefs = match mounts.first("tracefs") {
            Some(t) => Ok(t.to_string()),
            None if mount => mounts.ensure("tracefs").map_err(|e| e.to_string()),
            None => Err("tracefs is not mounted (tracepoint ids live there)".to_string()),
        };
        AttachEnv { root, tracefs, cgroup2: mounts.first("cgroup2").map(str::to_string), btf }
    }
}

fn load(prog_type: &str, ret: i32, tweak: impl FnOnce(&mut sys::ProgLoad<'_>)) -> Result<OwnedFd, Finding> {
    let t = prog_type_number(prog_type).unwrap_or(0);
    let insns = Insn::return_imm(ret);
    let mut p = trivial_load(t, &insns);
    tweak(&mut p);
    sys::prog_load(&p, None).map_err(|e| Finding::from_error(&format!("load {prog_type} program"), &e.error))
}

fn attach_kprobe(env: &AttachEnv<'_>) -> Finding {
    let Some(pmu) = env.root.read_opt_parsed::<u32>(KPROBE_PMU) else {
        return Finding::new(
            Verdict::Absent,
            format!("{KPROBE_PMU} missing: no kprobe PMU (kernel built without CONFIG_KPROBES)"),
        );
    };
    let prog = match load("kprobe", 0, |_| {}) {
        Ok(p) => p,
        Err(f) => return f,
    };
    let func = c"do_nanosleep";
    let event = match sys::perf_event_open(pmu, 0, func.as_ptr() as u64) {
        Ok(e) => e,
        Err(e) => return Finding::from_error("perf_event_open(kprobe do_nanosleep)", &e),
    };
    Finding::from_result(
        "BPF_LINK_CREATE(kprobe)",
        sys::link_create(&prog, event.as_raw_fd() as u32, ATTACH_PERF_EVENT, 0),
    )
}

fn attach_tracepoint(env: &AttachEnv<'_>) -> Finding {
    let tracefs = match &env.tracefs {
        Ok(t) => t,
        Err(why) => return Finding::new(Verdict::Unknown, why.clone()),
    };
    let id_path = format!("{tracefs}/events/sched/sched_switch/id");
    let Some(id) = env.root.read_opt_parsed::<u64>(&id_path) else {
        return Finding::new(Verdict::Absent, format!("{id_path} missing"));
    };
    let prog = match load("tracepoint", 0, |_| {}) {
        Ok(p) => p,
        Err(f) => return f,
    };
    let event = match sys::perf_event_open(PERF_TYPE_TRACEPOINT, id, 0) {
        Ok(e) => e,
        Err(e) => return Finding::from_error("perf_event_open(sched:sched_switch)", &e),
    };
    Finding::from_result(
        "BPF_LINK_CREATE(tracepoint)",
        sys::link_create(&prog, event.as_raw_fd() as u32, ATTACH_PERF_EVENT, 0),
    )
}

fn attach_raw_tracepoint(_: &AttachEnv<'_>) -> Finding {
    match load("raw_tracepoint", 0, |_| {}) {
        Ok(prog) => Finding::from_result(
            "BPF_RAW_TRACEPOINT_OPEN(sched_switch)",
            sys::raw_tracepoint_open(&prog, Some(c"sched_switch")),
        ),
        Err(f) => f,
    }
}

fn attach_btf_typed(env: &AttachEnv<'_>, target: &str, kind: u32, attach: u32) -> Finding {
    let Some(btf) = env.btf else {
        return Finding::new(Verdict::Absent, "no kernel BTF (/sys/kernel/btf/vmlinux)");
    };
    let Some(id) = btf.find(target, kind) else {
        return Finding::new(Verdict::Absent, format!("{target} not in kernel BTF"));
    };
    match load("tracing", 0, |p| (p.expected_attach_type, p.attach_btf_id) = (attach, id)) {
        Ok(prog) => Finding::from_result("BPF_RAW_TRACEPOINT_OPEN", sys::raw_tracepoint_open(&prog, None)),
        Err(f) => f,
    }
}

fn attach_tp_btf(env: &AttachEnv<'_>) -> Finding {
    attach_btf_typed(env, "btf_trace_sched_switch", KIND_TYPEDEF, TRACE_RAW_TP)
}

fn attach_fentry(env: &AttachEnv<'_>) -> Finding {
    attach_btf_typed(env, "bpf_fentry_test1", KIND_FUNC, TRACE_FENTRY)
}

fn attach_xdp(_: &AttachEnv<'_>) -> Finding {
    // SAFETY: a valid NUL-terminated interface name.
    let lo = unsafe { libc::if_nametoindex(c"lo".as_ptr()) };
    if lo == 0 {
        return Finding::new(Verdict::Unknown, "no loopback interface to attach to");
    }
    match load("xdp", 2, |p| p.expected_attach_type = ATTACH_XDP) {
        // XDP_PASS on lo in generic mode: traffic is untouched while it is attached.
        Ok(prog) => match sys::link_create(&prog, lo, ATTACH_XDP, XDP_FLAGS_SKB_MODE) {
            // The kernel reached lo's XDP hook and found it taken (another agent's probe, or an
            // operator's program): the hook exists.
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                Finding::supported("lo already holds an XDP program (EBUSY): the hook exists")
            }
            result => Finding::from_result("BPF_LINK_CREATE(xdp generic, lo)", result),
        },
        Err(f) => f,
    }
}

fn attach_cgroup(env: &AttachEnv<'_>) -> Finding {
    let Some(cg) = &env.cgroup2 else {
        return Finding::new(Verdict::Unknown, "no cgroup2 hierarchy mounted");
    };
    let prog = match load("cgroup_skb", 1, |p| p.expected_attach_type = ATTACH_CGROUP_INGRESS) {
        Ok(p) => p,
        Err(f) => return f,
    };
    // A fresh empty cgroup, so no process sees the (pass-all) program; named per probe, since
    // one process may run several probes at once.
    static PROBES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = env.root.host_path(&format!("{cg}/hm-probe-{}-{n}", std::process::id()));
    if let Err(e) = std::fs::create_dir(&dir) {
        return Finding::from_error(&format!("mkdir {}", dir.display()), &e);
    }
    let finding = match std::fs::File::open(&dir) {
        Ok(f) => Finding::from_result(
            "BPF_LINK_CREATE(cgroup_skb ingress)",
            sys::link_create(&prog, f.as_raw_fd() as u32, ATTACH_CGROUP_INGRESS, 0),
        ),
        Err(e) => Finding::from_error("open cgroup", &e),
    };
    // Links are closed by now (dropped inside from_result), so the cgroup is empty again.
    let _ = std::fs::remove_dir(&dir);
    finding
}

/// Attaches and detaches a trivial program for every hook kind: kprobe, tracepoint,
/// raw_tracepoint, tp_btf, fentry, xdp, cgroup.
pub fn probe_attach(env: &AttachEnv<'_>) -> BTreeMap<String, Finding> {
    type Probe = fn(&AttachEnv<'_>) -> Finding;
    let fns: [Probe; 7] = [
        attach_kprobe,
        attach_tracepoint,
        attach_raw_tracepoint,
        attach_tp_btf,
        attach_fentry,
        attach_xdp,
        attach_cgroup,
    ];
    let probes: Vec<(&str, Probe)> = HOOKS.into_iter().zip(fns).collect();
    // Independent, and mostly waiting on the kernel (RCU grace periods on detach): run together.
    std::thread::scope(|s| {
        let running: Vec<_> = probes.iter().map(|(name, f)| (name, s.spawn(move || f(env)))).collect();
        running
            .into_iter()
            .map(|(name, h)| {
                let f = h.join().unwrap_or_else(|_| Finding::new(Verdict::Unknown, "probe thread panicked"));
                (name.to_string(), f)
            })
            .collect()
    })
}

/// The attach map of a probe that did not attach (quick mode): every hook "unknown".
pub fn not_probed() -> BTreeMap<String, Finding> {
    HOOKS
        .iter()
        .map(|h| {
            (h.to_string(), Finding::new(Verdict::Unknown, "not attached in quick mode (run the full probe)"))
        })
        .collect()
}
