//! What this kernel lets this process do with eBPF: kernel facts, capabilities, mounts, program
//! and map types, helpers (full mode) and attachability of each hook kind.

pub mod attach;
pub mod caps;
mod helper_names;
pub mod helpers;
pub mod kernel;
pub mod mounts;
pub mod types;
pub mod verdict;
pub mod xdp_devices;

use crate::btf_index::BtfIndex;
use crate::error::Result;
use caps::{Cap, Capabilities};
use hypermesh_os::FsRoot;
use mounts::Mounts;
use serde::Serialize;
use std::collections::BTreeMap;
pub use verdict::{Finding, Verdict};

/// How much to probe.
#[derive(Debug, Clone, Copy)]
pub struct ProbeOptions {
    /// Also probe helpers per program type (some 6,000 loads; off for start-up decisions).
    pub helpers: bool,
    /// Really attach a trivial program per hook kind. Off in quick mode: detaching waits for
    /// RCU grace periods and this kernel takes ~100 ms to refuse an fentry program.
    pub attach: bool,
    /// Mount tracefs/securityfs when missing and allowed (needed for tracepoint ids, lockdown).
    pub mount: bool,
}

impl ProbeOptions {
    /// Everything, mounting what is missing.
    pub fn full() -> Self {
        ProbeOptions { helpers: true, attach: true, mount: true }
    }

    /// Kernel facts, program and map types only, for start-up decisions (≤ 20 ms).
    pub fn quick() -> Self {
        ProbeOptions { helpers: false, attach: false, mount: true }
    }
}

/// Result of a probe. Serialises to the JSON contract: `kernel.release`, `btf`, `jit`,
/// `lockdown`, `capabilities`, `program_types.NAME`, `map_types.NAME`, `attach.NAME` (verdict
/// words), with the reasons in `details` keyed by the same paths.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    /// Release and version.
    pub kernel: kernel::Kernel,
    /// BPF-related build options (`None`: not set); empty when no config is readable.
    pub config: BTreeMap<String, Option<String>>,
    /// BTF availability.
    pub btf: kernel::Btf,
    /// JIT settings.
    pub jit: kernel::Jit,
    /// Lockdown mode, `None` when it could not be read (see `details.lockdown`).
    pub lockdown: Option<String>,
    /// `kernel.unprivileged_bpf_disabled` (0 allowed, 1 disabled, 2 disabled but changeable).
    pub unprivileged_bpf_disabled: Option<i64>,
    /// `kernel.bpf_stats_enabled`.
    pub bpf_stats_enabled: Option<bool>,
    /// Whether the `bpf()` syscall exists.
    pub bpf_syscall: bool,
    /// eBPF-relevant capabilities (effective set) by name.
    pub capabilities: BTreeMap<String, bool>,
    /// Where bpffs, tracefs, securityfs, cgroup2 are mounted, and what the probe mounted.
    pub mounts: Mounts,
    /// Program type → verdict.
    pub program_types: BTreeMap<String, Finding>,
    /// Map type → verdict.
    pub map_types: BTreeMap<String, Finding>,
    /// Hook kind → verdict of a real attach.
    pub attach: BTreeMap<String, Finding>,
    /// Network devices with the XDP features of their drivers, from the kernel's netdev family
    /// (empty when it cannot tell: the reason is in `details.xdp_devices`).
    pub xdp_devices: Vec<xdp_devices::XdpDevice>,
    /// Program type → helpers it may call (full mode only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helpers: Option<BTreeMap<String, Vec<String>>>,
    /// `section.NAME` → why a verdict is what it is (errno, missing file).
    pub details: BTreeMap<String, String>,
}

/// Probes this kernel for this process.
pub fn probe(root: &FsRoot, opts: ProbeOptions) -> Result<Probe> {
    let mut k = kernel::kernel();
    let cfg = kernel::config(root, &k.release);
    k.config_source = cfg.as_ref().map(|(s, _)| s.clone());
    let config = cfg.map(|(_, c)| c).unwrap_or_default();
    let caps = Capabilities::read(root)?;
    let mut mounts = Mounts::read(root)?;
    let mut details = BTreeMap::new();
    let lockdown = match kernel::lockdown(root, &mut mounts, opts.mount && caps.has(Cap::SysAdmin)) {
        Ok(l) => Some(l),
        Err(why) => {
            details.insert("lockdown".to_string(), why);
            None
        }
    };
    let mut program_types = types::probe_prog_types();
    let map_types = types::probe_map_types();
    let usable = helpers::supported_types(&program_types);
    let attach_env = opts.attach.then(|| {
        let btf_index = BtfIndex::vmlinux(root).ok();
        (attach::AttachEnv::new(root, &mut mounts, opts.mount && caps.has(Cap::SysAdmin), None), btf_index)
    });
    // The attach probes mostly wait on the kernel (RCU grace periods on detach) while the helper
    // scan keeps the CPUs busy: run them side by side.
    let (attach, helpers) = std::thread::scope(|s| {
        let attach = s.spawn(|| match &attach_env {
            Some((env, btf)) => attach::probe_attach(&attach::AttachEnv { btf: btf.as_ref(), ..env.clone() }),
            None => attach::not_probed(),
        });
        let helpers = opts.helpers.then(|| helpers::probe_helpers(&usable));
        (attach.join().unwrap_or_else(|_| attach::not_probed()), helpers)
    });
    if let Some(t) = program_types.get_mut("tracing") {
        *t = tracing_verdict(t, &attach);
    }
    for (section, map) in [("program_types", &program_types), ("map_types", &map_types), ("attach", &attach)]
    {
        for (name, f) in map.iter().filter(|(_, f)| !f.detail.is_empty()) {
            details.insert(format!("{section}.{name}"), f.detail.clone());
        }
    }
    let xdp_devices = xdp_devices::xdp_devices(root).unwrap_or_else(|why| {
        details.insert("xdp_devices".to_string(), why);
        Vec::new()
    });
    Ok(Probe {
        btf: kernel::btf(root),
        jit: kernel::jit(root, (!config.is_empty()).then_some(&config)),
        unprivileged_bpf_disabled: kernel::kernel_sysctl(root, "unprivileged_bpf_disabled"),
        bpf_stats_enabled: kernel::kernel_sysctl(root, "bpf_stats_enabled").map(|v| v != 0),
        bpf_syscall: types::have_bpf_syscall(),
        capabilities: caps.named().into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
        kernel: k,
        config,
        lockdown,
        mounts,
        program_types,
        map_types,
        attach,
        xdp_devices,
        helpers,
        details,
    })
}

impl Probe {
    /// Whether XDP runs in the driver of at least one physical network device: `None` when the
    /// kernel cannot tell or the host has no physical network device.
    pub fn xdp_native(&self) -> Option<bool> {
        let mut physical = self.xdp_devices.iter().filter(|d| d.physical).peekable();
        physical.peek()?;
        Some(physical.any(|d| d.native()))
    }
}

/// The `tracing` program type's verdict from real loads: the type check alone ("must provide
/// btf_id") only shows the kernel knows the type. With the attach checks run, it is supported
/// when a tracing program loaded and attached (tp_btf or fentry), denied when both were refused
/// by policy, else the attach checks' verdict on tp_btf; in quick mode the type check stands.
pub fn tracing_verdict(type_check: &Finding, attach: &BTreeMap<String, Finding>) -> Finding {
    let (Some(tp_btf), Some(fentry)) = (attach.get("tp_btf"), attach.get("fentry")) else {
        return type_check.clone();
    };
    let both = |v: Verdict| tp_btf.verdict == v && fentry.verdict == v;
    if both(Verdict::Unknown) {
        type_check.clone()
    } else if tp_btf.verdict == Verdict::Supported || fentry.verdict == Verdict::Supported {
        let loads: Vec<&str> = [("tp_btf", tp_btf), ("fentry", fentry)]
            .iter()
            .filter(|(_, f)| f.verdict == Verdict::Supported)
            .map(|(k, _)| *k)
            .collect();
        let refused: Vec<String> = [("tp_btf", tp_btf), ("fentry", fentry)]
            .iter()
            .filter(|(_, f)| f.verdict != Verdict::Supported)
            .map(|(k, f)| format!("; {k} {}: {}", f.verdict.as_str(), f.detail))
            .collect();
        Finding::supported(format!("{} programs load here{}", loads.join(" and "), refused.concat()))
    } else if tp_btf.verdict == Verdict::Denied || fentry.verdict == Verdict::Denied {
        Finding::new(
            Verdict::Denied,
            format!("every tracing load refused: tp_btf: {}; fentry: {}", tp_btf.detail, fentry.detail),
        )
    } else {
        Finding::new(tp_btf.verdict, format!("tp_btf: {}", tp_btf.detail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attach(tp_btf: Finding, fentry: Finding) -> BTreeMap<String, Finding> {
        [("tp_btf".to_string(), tp_btf), ("fentry".to_string(), fentry)].into()
    }

    #[test]
    fn tracing_is_supported_only_when_a_tracing_program_loads() {
        let known = Finding::supported("Tracing programs must provide btf_id");
        let eperm =
            || Finding::new(Verdict::Denied, "load tracing program: Operation not permitted (os error 1)");
        // Lockdown refusing every tracing load (tp_btf and fentry): denied, as lsm and ext.
        let f = tracing_verdict(&known, &attach(eperm(), eperm()));
        assert_eq!(f.verdict, Verdict::Denied, "{f:?}");
        // This CI kernel: tp_btf loads, fentry refused: supported, and the refusal said.
        let f = tracing_verdict(&known, &attach(Finding::supported(""), eperm()));
        assert_eq!(f.verdict, Verdict::Supported);
        assert!(f.detail.starts_with("tp_btf programs load here; fentry denied"), "{f:?}");
        // No BTF: no tracing program can be loaded.
        let nobtf = || Finding::new(Verdict::Absent, "no kernel BTF (/sys/kernel/btf/vmlinux)");
        assert_eq!(tracing_verdict(&known, &attach(nobtf(), nobtf())).verdict, Verdict::Absent);
        // Quick mode: the type check stands.
        let f = tracing_verdict(&known, &attach::not_probed());
        assert_eq!(f, known);
    }
}
