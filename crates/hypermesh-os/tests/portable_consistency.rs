//! The portable backend (sysinfo) against the native one and against the kernel's own files, on
//! this machine: logical CPUs, physical cores, MemTotal, swap, filesystem sizes, interface names
//! and MACs. Each check compares with the kernel first, then with the native backend; where the
//! native section cannot answer yet, that half is reported through `testing::skip` (a failure
//! under `HYPERMESH_REQUIRE_ALL=1`). Where the two backends legitimately differ, the reason is
//! named in the code and in the failure message.

// Both halves of each comparison are needed: the native backend only exists under this cfg.
#![cfg(native_linux)]

use hypermesh_os::linux::LinuxBackend;
use hypermesh_os::linux::meminfo::Meminfo;
use hypermesh_os::linux::mountinfo;
use hypermesh_os::model::{Filesystem, Interface};
use hypermesh_os::portable::PortableBackend;
use hypermesh_os::{Backend, Error, FsRoot, Problems, cpulist};
use hypermesh_testkit as testing;
use std::collections::{BTreeMap, BTreeSet};

fn native() -> LinuxBackend {
    LinuxBackend::new(FsRoot::host())
}

fn host() -> FsRoot {
    FsRoot::host()
}

/// Runs a native section; `None` (after a skip note) when it cannot answer on this build.
fn native_section<T>(
    what: &str,
    f: impl FnOnce(&LinuxBackend, &mut Problems) -> Result<T, Error>,
) -> Option<T> {
    match f(&native(), &mut Problems::new()) {
        Ok(v) => Some(v),
        Err(e) => {
            testing::skip(&format!("native {what} section failed ({e}); compared with the kernel only"));
            None
        }
    }
}

fn online_cpus() -> Vec<u32> {
    let text = host().read_trimmed("/sys/devices/system/cpu/online").unwrap();
    cpulist::parse_list(&text).unwrap()
}

#[test]
fn logical_cpus_agree() {
    let portable = PortableBackend::new().cpu(&mut Problems::new()).unwrap();
    // sysinfo lists the `cpuN` lines of /proc/stat, which are the online CPUs.
    let kernel = online_cpus().len() as u32;
    assert_eq!(portable.logical_cpus, kernel, "portable vs /sys/devices/system/cpu/online");
    assert_eq!(portable.logical.len() as u32, kernel);
    if let Some(native) = native_section("cpu", |b, p| b.cpu(p)) {
        assert_eq!(portable.logical_cpus, native.logical_cpus, "portable vs native logical CPUs");
    }
}

#[test]
fn physical_cores_agree() {
    let portable = PortableBackend::new().cpu(&mut Problems::new()).unwrap();
    let root = host();
    let mut cores = BTreeSet::new();
    for cpu in online_cpus() {
        let topo = format!("/sys/devices/system/cpu/cpu{cpu}/topology");
        let package: i64 = root.read_parsed(&format!("{topo}/physical_package_id")).unwrap();
        let core: i64 = root.read_parsed(&format!("{topo}/core_id")).unwrap();
        cores.insert((package, core));
    }
    assert_eq!(portable.cores as usize, cores.len(), "portable vs sysfs (package, core) pairs");
    if portable.cores == portable.logical_cpus {
        assert_eq!(portable.threads_per_core, 1);
    }
    if let Some(native) = native_section("cpu", |b, p| b.cpu(p)) {
        assert_eq!(portable.cores, native.cores, "portable vs native physical cores");
    }
}

#[test]
fn memory_total_and_swap_agree() {
    let portable = PortableBackend::new().memory(&mut Problems::new()).unwrap();
    let meminfo = Meminfo::parse(&host().read_string("/proc/meminfo").unwrap());
    let page = rustix::param::page_size() as u64;
    let kernel_total = meminfo.get("MemTotal").unwrap();
    assert!(
        portable.total_bytes.abs_diff(kernel_total) <= page,
        "MemTotal: portable {} vs /proc/meminfo {kernel_total}",
        portable.total_bytes
    );
    assert_eq!(portable.swap_total_bytes, meminfo.get("SwapTotal"), "SwapTotal vs /proc/meminfo");
    if let Some(native) = native_section("memory", |b, p| b.memory(p)) {
        assert!(
            portable.total_bytes.abs_diff(native.total_bytes) <= page,
            "MemTotal: portable {} vs native {}",
            portable.total_bytes,
            native.total_bytes
        );
        assert_eq!(portable.swap_total_bytes, native.swap_total_bytes, "swap total: portable vs native");
    }
}

/// Why sysinfo leaves a mount out of its disk list on Linux (its `get_all_list` filter), or
/// `None` when it lists it.
fn sysinfo_leaves_out(source: &str, mount_point: &str, fs_type: &str) -> Option<&'static str> {
    const PSEUDO: [&str; 13] = [
        "rootfs",
        "sysfs",
        "proc",
        "devtmpfs",
        "cgroup",
        "cgroup2",
        "pstore",
        "squashfs",
        "rpc_pipefs",
        "iso9660",
        "devpts",
        "hugetlbfs",
        "mqueue",
    ];
    if PSEUDO.contains(&fs_type) {
        Some("sysinfo skips this pseudo/read-only filesystem type")
    } else if fs_type == "tmpfs" {
        Some("sysinfo skips tmpfs unless built with its linux-tmpfs feature")
    } else if ["cifs", "nfs", "nfs4", "autofs"].contains(&fs_type) {
        Some("sysinfo skips network filesystems unless built with its linux-netdevs feature")
    } else if mount_point.starts_with("/sys")
        || mount_point.starts_with("/proc")
        || (mount_point.starts_with("/run") && !mount_point.starts_with("/run/media"))
    {
        Some("sysinfo skips mounts under /sys, /proc and /run")
    } else if source.starts_with("sunrpc") {
        Some("sysinfo skips sunrpc mounts")
    } else {
        None
    }
}

fn statvfs_total(mount_point: &str) -> Option<u64> {
    let st = rustix::fs::statvfs(mount_point).ok()?;
    Some(st.f_blocks.saturating_mul(st.f_frsize)).filter(|&n| n > 0)
}

fn by_mount_point(list: &[Filesystem]) -> BTreeMap<&str, &Filesystem> {
    list.iter().map(|f| (f.mount_point.as_str(), f)).collect()
}

/// Mount points of /proc/self/mountinfo that sysinfo does not filter out, with their type.
fn kernel_mounts_sysinfo_keeps() -> BTreeMap<String, String> {
    let (mounts, bad) = mountinfo::parse(&host().read_string("/proc/self/mountinfo").unwrap());
    assert!(bad.is_empty(), "{bad:?}");
    mounts
        .into_iter()
        .filter(|m| sysinfo_leaves_out(&m.source, &m.mount_point, &m.fs_type).is_none())
        .map(|m| (m.mount_point, m.fs_type))
        .collect()
}

/// Entries equal in two kernel readings taken around the backends' (other tests may add or
/// remove mounts and interfaces meanwhile), and every key seen in either.
fn stable<V: PartialEq + Clone>(
    before: &BTreeMap<String, V>,
    after: &BTreeMap<String, V>,
) -> (BTreeMap<String, V>, BTreeSet<String>) {
    let same = before.iter().filter(|(k, v)| after.get(*k) == Some(v)).map(|(k, v)| (k.clone(), v.clone()));
    (same.collect(), before.keys().chain(after.keys()).cloned().collect())
}

#[test]
fn filesystem_sizes_agree() {
    let before = kernel_mounts_sysinfo_keeps();
    let portable = PortableBackend::new().storage(&mut Problems::new()).unwrap();
    let native = native_section("storage", |b, p| b.storage(p));
    let (kept, seen) = stable(&before, &kernel_mounts_sysinfo_keeps());
    let listed = by_mount_point(&portable.filesystems);
    assert!(portable.block_devices.is_empty(), "sysinfo has no block device list");
    assert!(listed.contains_key("/"), "the root filesystem must be listed: {listed:?}");

    // Kernel: exactly the mounts sysinfo does not filter out are listed, with statvfs's size.
    for (mount_point, fs_type) in &kept {
        let fs = listed.get(mount_point.as_str()).unwrap_or_else(|| {
            panic!("{mount_point} ({fs_type}) is mounted and not filtered by sysinfo, yet not listed")
        });
        assert_eq!(fs.total_bytes, statvfs_total(mount_point), "{mount_point} size vs statvfs");
        assert_eq!(&fs.fs_type, fs_type, "{mount_point} type");
    }
    for mount_point in listed.keys() {
        assert!(
            seen.contains(*mount_point),
            "portable lists {mount_point}, which mountinfo does not (or filters)"
        );
    }

    let Some(native) = native else { return };
    let native_listed = by_mount_point(&native.filesystems);
    for (mount_point, nfs) in &native_listed {
        match listed.get(mount_point) {
            Some(pfs) => {
                assert_eq!(pfs.total_bytes, nfs.total_bytes, "{mount_point} size: portable vs native")
            }
            None => {
                let reason = sysinfo_leaves_out(&nfs.device, mount_point, &nfs.fs_type);
                assert!(
                    reason.is_some() || !kept.contains_key(*mount_point),
                    "native lists {mount_point} ({}) but portable does not, and no sysinfo rule explains it",
                    nfs.fs_type
                );
            }
        }
    }
    let native_devices: BTreeSet<&str> = native.filesystems.iter().map(|f| f.device.as_str()).collect();
    for (mount_point, pfs) in &listed {
        // The native backend lists a bind-mounted filesystem once; sysinfo lists every mount.
        assert!(
            native_listed.contains_key(mount_point)
                || native_devices.contains(pfs.device.as_str())
                || !kept.contains_key(*mount_point),
            "portable lists {mount_point} ({}) that native has neither there nor as a bind mount of {}",
            pfs.fs_type,
            pfs.device
        );
    }
}

/// The kernel's hardware address of each interface (`/sys/class/net/*/address`), `None` when it
/// has none sysinfo can hold: empty, not 6 bytes, or all zeros (sysinfo's "no address").
fn kernel_macs() -> BTreeMap<String, Option<String>> {
    let root = host();
    root.read_dir("/sys/class/net")
        .unwrap()
        .into_iter()
        .map(|name| {
            let mac = root
                .read_opt(&format!("/sys/class/net/{name}/address"))
                .map(|m| m.to_ascii_lowercase())
                .filter(|m| m.len() == 17 && m != "00:00:00:00:00:00");
            (name, mac)
        })
        .collect()
}

fn macs(interfaces: &[Interface]) -> BTreeMap<String, Option<String>> {
    interfaces.iter().map(|i| (i.name.clone(), i.mac.clone())).collect()
}

#[test]
fn interface_names_and_macs_agree() {
    let before = kernel_macs();
    let portable = macs(&PortableBackend::new().network(&mut Problems::new()).unwrap().interfaces);
    let native = native_section("network", |b, p| b.network(p));
    let (kernel, seen) = stable(&before, &kernel_macs());
    for (name, mac) in &kernel {
        assert_eq!(portable.get(name), Some(mac), "{name}: portable vs /sys/class/net/{name}/address");
    }
    for name in portable.keys() {
        assert!(seen.contains(name), "portable lists {name}, which /sys/class/net does not");
    }
    let Some(native) = native else { return };
    // sysinfo cannot tell an all-zero address (Linux loopback) from none: it reports `None`
    // where the native backend reports `00:00:00:00:00:00`.
    let native: BTreeMap<String, Option<String>> = macs(&native.interfaces)
        .into_iter()
        .map(|(n, m)| (n, m.map(|m| m.to_ascii_lowercase()).filter(|m| m != "00:00:00:00:00:00")))
        .collect();
    for name in kernel.keys() {
        assert_eq!(portable.get(name), native.get(name), "{name}: MAC portable vs native");
    }
    for name in native.keys() {
        assert!(seen.contains(name), "native lists {name}, which /sys/class/net does not");
    }
}

#[test]
fn unknown_values_are_named_not_guessed() {
    let backend = PortableBackend::new();
    let mut problems = Problems::new();
    let cpu = backend.cpu(&mut problems).unwrap();
    assert_eq!(cpu.packages, 0);
    assert!(cpu.frequency.is_none() && cpu.caches.is_empty());
    assert!(problems.iter().any(|p| p.to_string().contains("packages")), "{problems:?}");
    let mut problems = Problems::new();
    backend.storage(&mut problems).unwrap();
    assert!(problems.iter().any(|p| p.to_string().contains("block_devices")), "{problems:?}");
    let err = backend.numa(&mut Problems::new()).unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err}");
}

/// PCI addresses of the display-class (0x03) devices behind `/sys/class/drm/card*`: the only
/// GPUs sysinfo can list on Linux.
fn kernel_drm_gpus() -> BTreeSet<String> {
    let root = host();
    let Ok(cards) = root.read_dir("/sys/class/drm") else { return BTreeSet::new() };
    cards
        .into_iter()
        .filter(|c| c.starts_with("card") && !c.contains('-'))
        .filter(|c| {
            root.read_opt(&format!("/sys/class/drm/{c}/device/class")).is_some_and(|k| k.starts_with("0x03"))
        })
        .filter_map(|c| root.link_name(&format!("/sys/class/drm/{c}/device")))
        .collect()
}

#[test]
fn gpus_are_drm_display_devices() {
    let portable = PortableBackend::new().gpus(&mut Problems::new()).unwrap();
    let listed: BTreeSet<String> = portable.iter().map(|g| g.pci_address.clone()).collect();
    assert_eq!(listed.len(), portable.len(), "one entry per GPU");
    // sysinfo lists a DRM display device only when it knows the vendor, and an NVIDIA one only
    // when NVML or Vulkan can be loaded: a subset of the kernel's list, never more.
    let kernel = kernel_drm_gpus();
    assert!(listed.is_subset(&kernel), "portable GPUs {listed:?} vs DRM display devices {kernel:?}");
    if let Some(native) = native_section("gpus", |b, p| b.gpus(p)) {
        let native: BTreeSet<String> = native.iter().map(|g| g.pci_address.clone()).collect();
        assert!(listed.is_subset(&native), "portable GPUs {listed:?} vs native {native:?}");
    }
}
