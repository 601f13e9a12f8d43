//! Attachability, which bpftool does not check: a type that loads may still fail to attach
//! (kprobe programs load on a kernel without CONFIG_KPROBES). Each hook kind gets a trivial
//! program really attached and at once detached (links closed on drop).

use super::mounts::Mounts;
use super::types::{prog_type_number, trivial_load};
use super::verdict::{Finding, Verdict};
use crate::btf_index::{BtfIndex, KIND_FUNC, KIND_TYPEDEF};
use crate::lifecycle::Variant;
use crate::sys::{self, Insn};
use hypermesh_os::FsRoot;
use std::collections::BTreeMap;
use std::ffi::CString;
use std::io;
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

/// A hook a trivial program can be held on.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// kprobe on a kernel function.
    Kprobe(&'a str),
    /// Classic tracepoint (`sched`, `sched_switch`), through a perf event.
    Tracepoint(&'a str, &'a str),
    /// Raw tracepoint (`sched_switch`).
    RawTracepoint(&'a str),
    /// BTF-typed raw tracepoint (`sched_switch`).
    TpBtf(&'a str),
    /// fentry on a kernel function.
    Fentry(&'a str),
    /// Generic (skb-mode) XDP on an interface, by index.
    XdpGeneric(u32),
}

impl<'a> From<&'a Variant> for Target<'a> {
    /// The hook an attach variant of the lifecycle uses.
    fn from(v: &'a Variant) -> Self {
        match v {
            Variant::TpBtf { event, .. } => Target::TpBtf(event),
            Variant::RawTp { event, .. } => Target::RawTracepoint(event),
            Variant::Tracepoint { category, event, .. } => Target::Tracepoint(category, event),
            Variant::Fentry { func, .. } => Target::Fentry(func),
            Variant::Kprobe { func, .. } => Target::Kprobe(func),
        }
    }
}

/// A trivial program (it returns at once) held on a hook: link, perf event and program, closed
/// on drop. The probe's attach checks hold one for a moment; benchmarks hold one to measure
/// what a hook costs before a program does any work.
pub struct Held {
    _fds: Vec<OwnedFd>,
}

/// Attaches a trivial program to `target` and keeps it there. The error is the verdict on the
/// hook and why (an XDP hook taken by another program is "supported", yet cannot be held).
pub fn hold(env: &AttachEnv<'_>, target: Target<'_>) -> Result<Held, Finding> {
    match target {
        Target::Kprobe(func) => hold_kprobe(env, func),
        Target::Tracepoint(category, event) => hold_tracepoint(env, category, event),
        Target::RawTracepoint(event) => {
            let name = c_name(event)?;
            let prog = load("raw_tracepoint", 0, |_| {})?;
            held(
                &format!("BPF_RAW_TRACEPOINT_OPEN({event})"),
                sys::raw_tracepoint_open(&prog, Some(&name)),
                None,
                prog,
            )
        }
        Target::TpBtf(event) => {
            hold_btf_typed(env, &format!("btf_trace_{event}"), KIND_TYPEDEF, TRACE_RAW_TP)
        }
        Target::Fentry(func) => hold_btf_typed(env, func, KIND_FUNC, TRACE_FENTRY),
        Target::XdpGeneric(ifindex) => {
            let prog = load("xdp", 2, |p| p.expected_attach_type = ATTACH_XDP)?;
            match sys::link_create(&prog, ifindex, ATTACH_XDP, XDP_FLAGS_SKB_MODE) {
                // The kernel reached the device's XDP hook and found it taken (another agent's
                // probe, or an operator's program): the hook exists.
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => Err(Finding::supported(format!(
                    "interface {ifindex} already holds an XDP program (EBUSY): the hook exists"
                ))),
                link => held(&format!("BPF_LINK_CREATE(xdp generic, ifindex {ifindex})"), link, None, prog),
            }
        }
    }
}

/// The program, its link and the perf event it hangs on, closed link first.
fn held(
    step: &str,
    link: io::Result<OwnedFd>,
    event: Option<OwnedFd>,
    prog: OwnedFd,
) -> Result<Held, Finding> {
    let link = link.map_err(|e| Finding::from_error(step, &e))?;
    Ok(Held { _fds: [Some(link), event, Some(prog)].into_iter().flatten().collect() })
}

fn c_name(name: &str) -> Result<CString, Finding> {
    CString::new(name).map_err(|_| Finding::new(Verdict::Unknown, format!("{name:?} holds a NUL byte")))
}

fn hold_kprobe(env: &AttachEnv<'_>, func: &str) -> Result<Held, Finding> {
    let Some(pmu) = env.root.read_opt_parsed::<u32>(KPROBE_PMU) else {
        return Err(Finding::new(
            Verdict::Absent,
            format!("{KPROBE_PMU} missing: no kprobe PMU (kernel built without CONFIG_KPROBES)"),
        ));
    };
    let name = c_name(func)?;
    let prog = load("kprobe", 0, |_| {})?;
    let event = sys::perf_event_open(pmu, 0, name.as_ptr() as u64)
        .map_err(|e| Finding::from_error(&format!("perf_event_open(kprobe {func})"), &e))?;
    let link = sys::link_create(&prog, event.as_raw_fd() as u32, ATTACH_PERF_EVENT, 0);
    held("BPF_LINK_CREATE(kprobe)", link, Some(event), prog)
}

fn hold_tracepoint(env: &AttachEnv<'_>, category: &str, event: &str) -> Result<Held, Finding> {
    let tracefs = env.tracefs.as_ref().map_err(|why| Finding::new(Verdict::Unknown, why.clone()))?;
    let id_path = format!("{tracefs}/events/{category}/{event}/id");
    let Some(id) = env.root.read_opt_parsed::<u64>(&id_path) else {
        return Err(Finding::new(Verdict::Absent, format!("{id_path} missing")));
    };
    let prog = load("tracepoint", 0, |_| {})?;
    let perf = sys::perf_event_open(PERF_TYPE_TRACEPOINT, id, 0)
        .map_err(|e| Finding::from_error(&format!("perf_event_open({category}:{event})"), &e))?;
    let link = sys::link_create(&prog, perf.as_raw_fd() as u32, ATTACH_PERF_EVENT, 0);
    held("BPF_LINK_CREATE(tracepoint)", link, Some(perf), prog)
}

fn hold_btf_typed(env: &AttachEnv<'_>, target: &str, kind: u32, attach: u32) -> Result<Held, Finding> {
    let Some(btf) = env.btf else {
        return Err(Finding::new(Verdict::Absent, "no kernel BTF (/sys/kernel/btf/vmlinux)"));
    };
    let Some(id) = btf.find(target, kind) else {
        return Err(Finding::new(Verdict::Absent, format!("{target} not in kernel BTF")));
    };
    let prog = load("tracing", 0, |p| (p.expected_attach_type, p.attach_btf_id) = (attach, id))?;
    held("BPF_RAW_TRACEPOINT_OPEN", sys::raw_tracepoint_open(&prog, None), None, prog)
}

/// Supported when a trivial program could be held on `target` (and at once let go).
fn check(env: &AttachEnv<'_>, target: Target<'_>) -> Finding {
    hold(env, target).map_or_else(|f| f, |_| Finding::supported(""))
}

fn attach_kprobe(env: &AttachEnv<'_>) -> Finding {
    check(env, Target::Kprobe("do_nanosleep"))
}

fn attach_tracepoint(env: &AttachEnv<'_>) -> Finding {
    check(env, Target::Tracepoint("sched", "sched_switch"))
}

fn attach_raw_tracepoint(env: &AttachEnv<'_>) -> Finding {
    check(env, Target::RawTracepoint("sched_switch"))
}

fn attach_tp_btf(env: &AttachEnv<'_>) -> Finding {
    check(env, Target::TpBtf("sched_switch"))
}

fn attach_fentry(env: &AttachEnv<'_>) -> Finding {
    check(env, Target::Fentry("bpf_fentry_test1"))
}

fn attach_xdp(env: &AttachEnv<'_>) -> Finding {
    // SAFETY: a valid NUL-terminated interface name.
    let lo = unsafe { libc::if_nametoindex(c"lo".as_ptr()) };
    if lo == 0 {
        return Finding::new(Verdict::Unknown, "no loopback interface to attach to");
    }
    // XDP_PASS in generic mode: traffic is untouched while it is attached.
    check(env, Target::XdpGeneric(lo))
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
