//! Kernel facts that decide what eBPF can do: release, build config, BTF, JIT, sysctls,
//! lockdown.

use super::mounts::Mounts;
use crate::btf_index::VMLINUX_BTF;
use hypermesh_os::FsRoot;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Read;

/// The config options bpftool's `system_config` lists, in its order.
pub const CONFIG_KEYS: &[&str] = &[
    "CONFIG_BPF",
    "CONFIG_BPF_SYSCALL",
    "CONFIG_HAVE_EBPF_JIT",
    "CONFIG_BPF_JIT",
    "CONFIG_BPF_JIT_ALWAYS_ON",
    "CONFIG_DEBUG_INFO_BTF",
    "CONFIG_DEBUG_INFO_BTF_MODULES",
    "CONFIG_CGROUPS",
    "CONFIG_CGROUP_BPF",
    "CONFIG_CGROUP_NET_CLASSID",
    "CONFIG_SOCK_CGROUP_DATA",
    "CONFIG_BPF_EVENTS",
    "CONFIG_KPROBE_EVENTS",
    "CONFIG_UPROBE_EVENTS",
    "CONFIG_TRACING",
    "CONFIG_FTRACE_SYSCALLS",
    "CONFIG_FUNCTION_ERROR_INJECTION",
    "CONFIG_BPF_KPROBE_OVERRIDE",
    "CONFIG_NET",
    "CONFIG_XDP_SOCKETS",
    "CONFIG_LWTUNNEL_BPF",
    "CONFIG_NET_ACT_BPF",
    "CONFIG_NET_CLS_BPF",
    "CONFIG_NET_CLS_ACT",
    "CONFIG_NET_SCH_INGRESS",
    "CONFIG_XFRM",
    "CONFIG_IP_ROUTE_CLASSID",
    "CONFIG_IPV6_SEG6_BPF",
    "CONFIG_BPF_LIRC_MODE2",
    "CONFIG_BPF_STREAM_PARSER",
    "CONFIG_NETFILTER_XT_MATCH_BPF",
    "CONFIG_BPFILTER",
    "CONFIG_BPFILTER_UMH",
    "CONFIG_TEST_BPF",
    "CONFIG_HZ",
    "CONFIG_KPROBES",
    "CONFIG_BPF_LSM",
    "CONFIG_SECURITY_LOCKDOWN_LSM",
];

/// Release and build of the running kernel.
#[derive(Debug, Clone, Serialize)]
pub struct Kernel {
    /// `uname -r`.
    pub release: String,
    /// `uname -v`.
    pub version: String,
    /// Where the build config was read from (`/proc/config.gz`, `/boot/config-...`), if found.
    pub config_source: Option<String>,
}

/// JIT settings.
#[derive(Debug, Clone, Serialize)]
pub struct Jit {
    /// `net.core.bpf_jit_enable` (0 off, 1 on, 2 on with debug output).
    pub enable: Option<i64>,
    /// `net.core.bpf_jit_harden` (0 off, 1 unprivileged, 2 all).
    pub harden: Option<i64>,
    /// `net.core.bpf_jit_kallsyms`.
    pub kallsyms: Option<i64>,
    /// `net.core.bpf_jit_limit` in bytes.
    pub limit: Option<i64>,
    /// CONFIG_BPF_JIT_ALWAYS_ON: the interpreter is not built in.
    pub always_on: Option<bool>,
}

/// BTF availability.
#[derive(Debug, Clone, Serialize)]
pub struct Btf {
    /// `/sys/kernel/btf/vmlinux` exists (CO-RE, tp_btf, fentry need it).
    pub vmlinux: bool,
    /// Module BTF (`/sys/kernel/btf/` has more than `vmlinux`).
    pub modules: bool,
}

/// Reads `uname`.
pub fn kernel() -> Kernel {
    let u = rustix::system::uname();
    Kernel {
        release: u.release().to_string_lossy().into_owned(),
        version: u.version().to_string_lossy().into_owned(),
        config_source: None,
    }
}

/// Reads the kernel build config (`/proc/config.gz`, else `/boot/config-RELEASE`), keeping
/// [`CONFIG_KEYS`]; a key missing from the config maps to `None` ("is not set").
pub fn config(root: &FsRoot, release: &str) -> Option<(String, BTreeMap<String, Option<String>>)> {
    let (source, text) = read_gz(root, "/proc/config.gz").or_else(|| {
        let p = format!("/boot/config-{release}");
        root.read_opt(&p).map(|t| (p, t))
    })?;
    let mut found: BTreeMap<&str, String> = BTreeMap::new();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('=')
            && let Some(key) = CONFIG_KEYS.iter().find(|c| **c == k)
        {
            found.insert(key, v.trim_matches('"').to_string());
        }
    }
    Some((source, CONFIG_KEYS.iter().map(|k| (k.to_string(), found.remove(k))).collect()))
}

fn read_gz(root: &FsRoot, path: &str) -> Option<(String, String)> {
    let file = root.open(path).ok()?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(file).read_to_string(&mut text).ok()?;
    Some((path.to_string(), text))
}

/// Reads BTF presence.
pub fn btf(root: &FsRoot) -> Btf {
    let modules = root.read_dir("/sys/kernel/btf").map(|d| d.iter().any(|n| n != "vmlinux")).unwrap_or(false);
    Btf { vmlinux: root.exists(VMLINUX_BTF), modules }
}

/// Reads the JIT sysctls.
pub fn jit(root: &FsRoot, config: Option<&BTreeMap<String, Option<String>>>) -> Jit {
    let n = |k: &str| root.read_opt_parsed::<i64>(&format!("/proc/sys/net/core/{k}"));
    Jit {
        enable: n("bpf_jit_enable"),
        harden: n("bpf_jit_harden"),
        kallsyms: n("bpf_jit_kallsyms"),
        limit: n("bpf_jit_limit"),
        always_on: config
            .map(|c| c.get("CONFIG_BPF_JIT_ALWAYS_ON").is_some_and(|v| v.as_deref() == Some("y"))),
    }
}

/// Reads `kernel.NAME` from /proc/sys/kernel.
pub fn kernel_sysctl(root: &FsRoot, name: &str) -> Option<i64> {
    root.read_opt_parsed(&format!("/proc/sys/kernel/{name}"))
}

/// The lockdown mode (`none`, `integrity`, `confidentiality`) from securityfs, mounting
/// securityfs when `mount` allows and it is missing. `Err` says why it could not be read.
pub fn lockdown(root: &FsRoot, mounts: &mut Mounts, mount: bool) -> Result<String, String> {
    let dir = match mounts.first("securityfs") {
        Some(d) => d.to_string(),
        None if mount => mounts.ensure("securityfs").map_err(|e| e.to_string())?,
        None => return Err("securityfs is not mounted".into()),
    };
    let path = format!("{dir}/lockdown");
    let text =
        root.read_opt(&path).ok_or_else(|| format!("{path} is missing (kernel without the lockdown LSM)"))?;
    parse_lockdown(&text).ok_or_else(|| format!("{path}: no [selected] mode in {:?}", text.trim()))
}

/// Picks the bracketed mode out of `none [integrity] confidentiality`.
pub fn parse_lockdown(text: &str) -> Option<String> {
    text.split_whitespace().find_map(|w| w.strip_prefix('[')?.strip_suffix(']')).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockdown_mode() {
        assert_eq!(parse_lockdown("none [integrity] confidentiality\n").as_deref(), Some("integrity"));
        assert_eq!(parse_lockdown("[none] integrity").as_deref(), Some("none"));
        assert_eq!(parse_lockdown("garbage"), None);
    }

    #[test]
    fn config_from_boot_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("boot")).unwrap();
        std::fs::write(
            dir.path().join("boot/config-9.9"),
            "CONFIG_BPF=y\n# CONFIG_KPROBES is not set\nCONFIG_HZ=250\n",
        )
        .unwrap();
        let root = FsRoot::new(dir.path()).unwrap();
        let (src, c) = config(&root, "9.9").unwrap();
        assert_eq!(src, "/boot/config-9.9");
        assert_eq!(c["CONFIG_BPF"].as_deref(), Some("y"));
        assert_eq!(c["CONFIG_HZ"].as_deref(), Some("250"));
        assert_eq!(c["CONFIG_KPROBES"], None);
        assert!(config(&root, "1.0").is_none());
    }
}
