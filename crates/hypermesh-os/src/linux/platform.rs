//! platform section: distribution, kernel, architecture, host name, boot time, and whether the
//! host is a virtual machine or a container.

use crate::error::Result;
use crate::linux::cpu::cpuinfo::CpuInfo;
use crate::linux::mountinfo;
use crate::model::Platform;
use crate::profile::Problems;
use crate::root::FsRoot;
use std::io::Read;

/// Bytes of `/proc/cpuinfo` read for the first processor's flags (the rest repeats them).
const CPUINFO_HEAD: u64 = 16 << 10;

/// Detects the platform section.
pub fn detect(root: &FsRoot, problems: &mut Problems) -> Result<Platform> {
    let kernel = root.read_opt("/proc/sys/kernel/osrelease");
    let kernel_version = root.read_opt("/proc/version");
    let mut p = Platform { os: "linux".into(), kernel, kernel_version, ..Default::default() };
    match os_release(root) {
        Ok(fields) => {
            let get = |k: &str| fields.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
            p.distro = get("PRETTY_NAME").or_else(|| match (get("NAME"), get("VERSION")) {
                (Some(n), Some(v)) => Some(format!("{n} {v}")),
                (n, _) => n,
            });
            p.distro_id = get("ID");
            p.distro_version = get("VERSION_ID");
        }
        Err(e) => problems.push(e),
    }
    p.hostname = root.read_opt("/proc/sys/kernel/hostname");
    match root.read_string("/proc/stat") {
        Ok(text) => p.boot_time = btime(&text),
        Err(e) => problems.push(e),
    }
    p.uptime_seconds =
        root.read_opt("/proc/uptime").and_then(|t| t.split_whitespace().next().and_then(|s| s.parse().ok()));
    let head = std::cell::OnceCell::new();
    let cpuinfo = || head.get_or_init(|| cpuinfo_head(root));
    p.arch = if root.is_host() {
        Some(rustix::system::uname().machine().to_string_lossy().into_owned())
    } else {
        let (info, text) = cpuinfo();
        info.arch_hint(|s| text.contains(s)).map(str::to_string)
    };
    // On the live host CPUID says "hypervisor present" without reading /proc/cpuinfo (20 µs).
    let under_hypervisor = || match cpuid_hypervisor_bit() {
        Some(bit) if root.is_host() => bit,
        _ => cpuinfo().0.has_flag("hypervisor"),
    };
    if let Some((kind, source)) = virtualization(root, under_hypervisor) {
        p.virtualization = Some(kind);
        p.virtualization_source = Some(source);
    }
    let (container, source) = container(root);
    p.container = container;
    p.container_source = source;
    Ok(p)
}

/// `KEY=value` pairs of os-release (`/etc/os-release`, else `/usr/lib/os-release`).
fn os_release(root: &FsRoot) -> Result<Vec<(String, String)>> {
    let text = match root.read_string("/etc/os-release") {
        Ok(t) => t,
        Err(e) if e.is_not_found() => root.read_string("/usr/lib/os-release")?,
        Err(e) => return Err(e),
    };
    Ok(parse_os_release(&text))
}

/// Parses os-release lines, removing shell quotes; comments and malformed lines are skipped.
pub fn parse_os_release(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let (k, v) = l.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
                .unwrap_or(v);
            Some((k.trim().to_string(), v.replace("\\\"", "\"")))
        })
        .collect()
}

/// `btime` of `/proc/stat`.
pub fn btime(stat: &str) -> Option<u64> {
    stat.lines().find_map(|l| l.strip_prefix("btime ")?.trim().parse().ok())
}

/// The first processor's part of `/proc/cpuinfo`, enough for flags and vendor.
fn cpuinfo_head(root: &FsRoot) -> (CpuInfo, String) {
    let mut text = String::new();
    if let Ok(file) = root.open("/proc/cpuinfo") {
        let mut buf = Vec::new();
        if file.take(CPUINFO_HEAD).read_to_end(&mut buf).is_ok() {
            text = String::from_utf8_lossy(&buf).into_owned();
        }
    }
    (CpuInfo::parse(&text), text)
}

/// The hypervisor and how it was recognised: DMI strings, `/sys/hypervisor/type`, the ACPI
/// OEM id (Firecracker has no DMI), CPUID's hypervisor leaf on the live host, then the bare
/// hypervisor bit (CPUID on the live host, the `hypervisor` cpuinfo flag elsewhere).
fn virtualization(root: &FsRoot, under_hypervisor: impl FnOnce() -> bool) -> Option<(String, String)> {
    for attr in ["sys_vendor", "product_name", "bios_vendor"] {
        if let Some(v) = root.read_opt(&format!("/sys/class/dmi/id/{attr}"))
            && let Some(kind) = vm_from_dmi(&v)
        {
            return Some((kind.into(), format!("dmi {attr} {v:?}")));
        }
    }
    if let Some(t) = root.read_opt("/sys/hypervisor/type") {
        return Some((t.to_ascii_lowercase(), "/sys/hypervisor/type".into()));
    }
    if !under_hypervisor() {
        return None;
    }
    if let Some(oem) = acpi_oem_id(root)
        && let Some(kind) = vm_from_acpi_oem(&oem)
    {
        return Some((kind.into(), format!("acpi oem id {oem:?}")));
    }
    if root.is_host()
        && let Some(sig) = cpuid_hypervisor()
        && let Some(kind) = vm_from_cpuid(&sig)
    {
        return Some((kind.into(), format!("cpuid hypervisor signature {sig:?}")));
    }
    Some(("unknown".into(), "cpuinfo hypervisor flag".into()))
}

/// Hypervisor named by a DMI vendor or product string.
pub fn vm_from_dmi(text: &str) -> Option<&'static str> {
    const TABLE: [(&str, &str); 14] = [
        ("KVM", "kvm"),
        ("QEMU", "qemu"),
        ("VMware", "vmware"),
        ("VMW", "vmware"),
        ("innotek GmbH", "virtualbox"),
        ("VirtualBox", "virtualbox"),
        ("Xen", "xen"),
        ("Bochs", "bochs"),
        ("Parallels", "parallels"),
        ("BHYVE", "bhyve"),
        ("Amazon EC2", "amazon"),
        ("Google Compute Engine", "google"),
        ("Firecracker", "firecracker"),
        ("Apple Virtualization", "apple"),
    ];
    if text == "Virtual Machine" || text.contains("Hyper-V") {
        return Some("hyper-v");
    }
    TABLE.iter().find(|(needle, _)| text.contains(needle)).map(|(_, k)| *k)
}

/// Hypervisor named by an ACPI table's OEM id.
pub fn vm_from_acpi_oem(oem: &str) -> Option<&'static str> {
    Some(match oem.trim() {
        "FIRECK" => "firecracker",
        "BOCHS" => "qemu",
        "VBOX" => "virtualbox",
        "VRTUAL" => "hyper-v",
        "Xen" => "xen",
        "CLOUDH" => "cloud-hypervisor",
        "AMAZON" => "amazon",
        "Google" => "google",
        _ => return None,
    })
}

/// Hypervisor named by CPUID leaf 0x40000000's vendor signature.
pub fn vm_from_cpuid(sig: &str) -> Option<&'static str> {
    Some(match sig.trim_end_matches('\0') {
        "KVMKVMKVM" => "kvm",
        "Microsoft Hv" => "hyper-v",
        "VMwareVMware" => "vmware",
        "XenVMMXenVMM" => "xen",
        "TCGTCGTCGTCG" => "qemu",
        "VBoxVBoxVBox" => "virtualbox",
        "bhyve bhyve " => "bhyve",
        "ACRNACRNACRN" => "acrn",
        " lrpepyh  vr" => "parallels",
        _ => return None,
    })
}

/// OEM id (bytes 10..16 of the header) of the DSDT, where the firmware exposes it.
fn acpi_oem_id(root: &FsRoot) -> Option<String> {
    let file = root.open("/sys/firmware/acpi/tables/DSDT").ok()?;
    let mut header = Vec::with_capacity(16);
    file.take(16).read_to_end(&mut header).ok()?;
    let oem = header.get(10..16)?;
    Some(String::from_utf8_lossy(oem).trim_end_matches(['\0', ' ']).to_string())
}

#[cfg(target_arch = "x86_64")]
fn cpuid_hypervisor() -> Option<String> {
    #[allow(unused_unsafe)]
    // SAFETY: CPUID exists on every x86_64 CPU; leaf 0x40000000 is reserved for hypervisors and
    // harmless to query on bare metal.
    let r = unsafe { std::arch::x86_64::__cpuid(0x4000_0000) };
    let bytes: Vec<u8> = [r.ebx, r.ecx, r.edx].iter().flat_map(|v| v.to_le_bytes()).collect();
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// CPUID leaf 1, ECX bit 31: "running under a hypervisor" (what cpuinfo's `hypervisor` flag shows).
#[cfg(target_arch = "x86_64")]
fn cpuid_hypervisor_bit() -> Option<bool> {
    #[allow(unused_unsafe)]
    // SAFETY: CPUID leaf 1 exists on every x86_64 CPU.
    let r = unsafe { std::arch::x86_64::__cpuid(1) };
    Some(r.ecx & (1 << 31) != 0)
}

#[cfg(not(target_arch = "x86_64"))]
fn cpuid_hypervisor() -> Option<String> {
    None
}

#[cfg(not(target_arch = "x86_64"))]
fn cpuid_hypervisor_bit() -> Option<bool> {
    None
}

/// The container runtime of the target's PID 1 and the evidence for it. A `/.dockerenv` alone
/// counts only when the root filesystem is an overlay: VM images built from container images
/// keep the file on a plain disk.
fn container(root: &FsRoot) -> (Option<String>, Option<String>) {
    if root.exists("/run/.containerenv") {
        return (Some("podman".into()), Some("/run/.containerenv".into()));
    }
    if let Ok(env) = root.read_string("/proc/1/environ") {
        for var in env.split('\0') {
            if let Some(c) = var.strip_prefix("container=").filter(|c| !c.is_empty()) {
                return (Some(c.to_string()), Some("container= in /proc/1/environ".into()));
            }
            if var.starts_with("KUBERNETES_SERVICE_HOST=") {
                return (
                    Some("kubernetes".into()),
                    Some("KUBERNETES_SERVICE_HOST in /proc/1/environ".into()),
                );
            }
        }
    }
    if root.is_host() && std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
        return (Some("kubernetes".into()), Some("KUBERNETES_SERVICE_HOST in the environment".into()));
    }
    if let Some(kind) = root.read_opt("/proc/1/cgroup").and_then(|t| container_from_cgroup(&t)) {
        return (Some(kind.into()), Some("/proc/1/cgroup".into()));
    }
    if root.exists("/.dockerenv") {
        let root_fs = root.read_string("/proc/1/mountinfo").ok().and_then(|t| {
            mountinfo::parse(&t)
                .0
                .into_iter()
                .rev()
                .find(|m| m.mount_point == "/")
                .map(|m| (m.fs_type, m.source))
        });
        return match root_fs {
            Some((fs, _)) if matches!(fs.as_str(), "overlay" | "aufs" | "fuse-overlayfs" | "shiftfs") => {
                (Some("docker".into()), Some(format!("/.dockerenv on an {fs} root")))
            }
            Some((fs, src)) => (
                None,
                Some(format!(
                    "/.dockerenv present but / is {fs} on {src}: taken as an image leftover, not a container"
                )),
            ),
            None => (Some("docker".into()), Some("/.dockerenv".into())),
        };
    }
    (None, None)
}

/// Runtime named by the cgroup paths of a process.
pub fn container_from_cgroup(text: &str) -> Option<&'static str> {
    const TABLE: [(&str, &str); 6] = [
        ("kubepods", "kubernetes"),
        ("libpod", "podman"),
        ("docker", "docker"),
        ("/lxc", "lxc"),
        ("containerd", "containerd"),
        ("/ecs/", "ecs"),
    ];
    text.lines()
        .filter_map(|l| l.splitn(3, ':').nth(2))
        .find_map(|path| TABLE.iter().find(|(needle, _)| path.contains(needle)).map(|(_, k)| *k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_quotes_and_junk() {
        let f = parse_os_release(
            "# c\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID='12'\njunk\n",
        );
        assert_eq!(f[0], ("PRETTY_NAME".into(), "Debian GNU/Linux 12 (bookworm)".into()));
        assert_eq!(f[1].1, "debian");
        assert_eq!(f[2].1, "12");
        assert_eq!(f.len(), 3);
        assert!(parse_os_release("").is_empty());
    }

    #[test]
    fn stat_btime() {
        assert_eq!(btime("cpu  1 2 3\nbtime 1418183276\nprocesses 5\n"), Some(1418183276));
        assert_eq!(btime("cpu 1\nbtime x\n"), None);
        assert_eq!(btime(""), None);
    }

    #[test]
    fn hypervisor_names() {
        assert_eq!(vm_from_dmi("QEMU"), Some("qemu"));
        assert_eq!(vm_from_dmi("Virtual Machine"), Some("hyper-v"));
        assert_eq!(vm_from_dmi("Dell Inc."), None);
        assert_eq!(vm_from_acpi_oem("FIRECK"), Some("firecracker"));
        assert_eq!(vm_from_acpi_oem("ALASKA"), None);
        assert_eq!(vm_from_cpuid("KVMKVMKVM\0\0\0"), Some("kvm"));
    }

    #[test]
    fn cgroup_runtimes() {
        assert_eq!(container_from_cgroup("0::/system.slice/docker-abc.scope\n"), Some("docker"));
        assert_eq!(container_from_cgroup("12:memory:/kubepods/burstable/pod1\n"), Some("kubernetes"));
        assert_eq!(container_from_cgroup("0::/\n4:memory:/process_api/e78\n"), None);
        assert_eq!(container_from_cgroup("garbage"), None);
    }
}
