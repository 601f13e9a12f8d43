//! Hand-made trees for the allowed set (cgroup v1 and v2 cpusets, /proc/self/status) and the
//! memory parts (memory-side caches, pmem namespaces and DAX devices, SMBIOS type 17 DIMMs).

#![cfg(native_linux)]

mod common;

use common::profile;

use hypermesh_os::linux::smbios::blob::memory_device;
use hypermesh_os::model::{AllowedSource, AllowedSourceKind, DaxDevice, MemorySideCache, PmemNamespace};
use hypermesh_testkit::synthetic::{Machine, Tree};

/// A 2-socket, 4-cores-per-socket, 2-thread machine (CPUs 0-15, nodes 0 and 1).
fn machine() -> (tempfile::TempDir, Tree) {
    let dir = tempfile::tempdir().unwrap();
    let tree = Tree::new(dir.path()).unwrap();
    Machine::x86(2, 4, 2).write(&tree).unwrap();
    (dir, tree)
}

fn source(kind: AllowedSourceKind, path: &str) -> Option<AllowedSource> {
    Some(AllowedSource { kind, path: path.to_string() })
}

/// An allowed list and its source.
type Allowed = (Option<Vec<u32>>, Option<AllowedSource>);

/// The allowed CPUs and nodes with their sources, after checking nothing failed.
fn allowed(tree: &Tree) -> (Allowed, Allowed) {
    let p = profile(tree);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let (cpu, numa) = (p.cpu.unwrap(), p.numa.unwrap());
    assert_eq!(cpu.logical_cpus, 16, "the machine's CPUs are all still reported");
    ((cpu.allowed, cpu.allowed_source), (numa.allowed_nodes, numa.allowed_source))
}

const STATUS: &str =
    "Name:\thypermesh\nCpus_allowed:\tffff\nCpus_allowed_list:\t0-15\nMems_allowed_list:\t0-1\n";
const V2_MOUNT: &str = "30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec - cgroup2 cgroup2 rw,nsdelegate\n";

#[test]
fn cgroup_v2_cpuset_of_a_pod() {
    let (_d, t) = machine();
    let pod = "/sys/fs/cgroup/kubepods.slice/pod1";
    t.file("/proc/self/status", STATUS).unwrap();
    t.file("/proc/self/cgroup", "0::/kubepods.slice/pod1/c1\n").unwrap();
    t.file("/proc/self/mountinfo", V2_MOUNT).unwrap();
    t.file("/sys/fs/cgroup/cpuset.cpus.effective", "0-15\n").unwrap();
    t.file("/sys/fs/cgroup/cpuset.mems.effective", "0-1\n").unwrap();
    // The container's own cgroup has no cpuset controller enabled: the pod's applies.
    t.dir(&format!("{pod}/c1")).unwrap();
    t.file(&format!("{pod}/cpuset.cpus.effective"), "2-3,10-11\n").unwrap();
    t.file(&format!("{pod}/cpuset.mems.effective"), "1\n").unwrap();
    let ((cpus, cpu_src), (nodes, node_src)) = allowed(&t);
    assert_eq!(cpus, Some(vec![2, 3, 10, 11]));
    assert_eq!(cpu_src, source(AllowedSourceKind::CgroupV2, &format!("{pod}/cpuset.cpus.effective")));
    assert_eq!(nodes, Some(vec![1]));
    assert_eq!(node_src, source(AllowedSourceKind::CgroupV2, &format!("{pod}/cpuset.mems.effective")));
}

#[test]
fn cgroup_v1_cpuset_of_a_slurm_job_on_a_hybrid_host() {
    let (_d, t) = machine();
    let job = "/sys/fs/cgroup/cpuset/slurm/uid_0/job_42";
    t.file("/proc/self/status", STATUS).unwrap();
    t.file("/proc/self/cgroup", "4:memory:/slurm/uid_0/job_42\n3:cpuset:/slurm/uid_0/job_42\n0::/\n")
        .unwrap();
    t.file(
        "/proc/self/mountinfo",
        "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n\
         34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n\
         35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
         41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n",
    )
    .unwrap();
    t.file(&format!("{job}/cpuset.effective_cpus"), "4-7\n").unwrap();
    t.file(&format!("{job}/cpuset.cpus"), "4-7,12\n").unwrap();
    t.file(&format!("{job}/cpuset.effective_mems"), "0\n").unwrap();
    t.file(&format!("{job}/cpuset.mems"), "0\n").unwrap();
    let ((cpus, cpu_src), (nodes, node_src)) = allowed(&t);
    assert_eq!(cpus, Some(vec![4, 5, 6, 7]), "the effective set, not the configured one");
    assert_eq!(cpu_src, source(AllowedSourceKind::CgroupV1, &format!("{job}/cpuset.effective_cpus")));
    assert_eq!(nodes, Some(vec![0]));
    assert_eq!(node_src, source(AllowedSourceKind::CgroupV1, &format!("{job}/cpuset.effective_mems")));
}

#[test]
fn cgroup_v1_without_effective_files_and_an_unset_child() {
    let (_d, t) = machine();
    let parent = "/sys/fs/cgroup/cpuset/lxc";
    t.file("/proc/self/cgroup", "3:cpuset:/lxc/c1\n").unwrap();
    t.file("/proc/self/mountinfo", "34 31 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n")
        .unwrap();
    // An old kernel: only cpuset.cpus/mems; the child's were never written (empty).
    t.file(&format!("{parent}/c1/cpuset.cpus"), "\n").unwrap();
    t.file(&format!("{parent}/c1/cpuset.mems"), "\n").unwrap();
    t.file(&format!("{parent}/cpuset.cpus"), "8-9\n").unwrap();
    t.file(&format!("{parent}/cpuset.mems"), "1\n").unwrap();
    let ((cpus, cpu_src), (nodes, node_src)) = allowed(&t);
    assert_eq!(cpus, Some(vec![8, 9]));
    assert_eq!(cpu_src, source(AllowedSourceKind::CgroupV1, &format!("{parent}/cpuset.cpus")));
    assert_eq!(nodes, Some(vec![1]));
    assert_eq!(node_src, source(AllowedSourceKind::CgroupV1, &format!("{parent}/cpuset.mems")));
}

#[test]
fn proc_self_status_without_a_cpuset_hierarchy() {
    let (_d, t) = machine();
    t.file("/proc/self/status", "Name:\tx\nCpus_allowed_list:\t0-3,8\nMems_allowed_list:\t0\n").unwrap();
    t.file("/proc/self/cgroup", "0::/\n").unwrap();
    t.file("/proc/self/mountinfo", "22 1 254:0 / / rw - ext4 /dev/vda rw\n").unwrap();
    let ((cpus, cpu_src), (nodes, node_src)) = allowed(&t);
    assert_eq!(cpus, Some(vec![0, 1, 2, 3, 8]));
    assert_eq!(cpu_src, source(AllowedSourceKind::ProcStatus, "/proc/self/status"));
    assert_eq!(nodes, Some(vec![0]));
    assert_eq!(node_src, source(AllowedSourceKind::ProcStatus, "/proc/self/status"));
}

#[test]
fn no_source_is_unknown_and_a_bad_one_is_reported() {
    let (_d, t) = machine();
    assert_eq!(allowed(&t), ((None, None), (None, None)));
    t.file("/proc/self/status", "Cpus_allowed_list:\tgarbage\nMems_allowed_list:\t0\n").unwrap();
    let p = profile(&t);
    assert_eq!(p.cpu.unwrap().allowed, None);
    assert_eq!(p.numa.unwrap().allowed_nodes, Some(vec![0]));
    assert!(
        p.errors.iter().any(
            |e| e.path.as_deref() == Some("/proc/self/status") && e.message.contains("Cpus_allowed_list")
        ),
        "{:?}",
        p.errors
    );
}

#[test]
fn memory_side_caches_per_node() {
    let (_d, t) = machine();
    let cache = |node: u32, index: u32, size: u64, indexing: u32, policy: u32| {
        let dir = format!("/sys/devices/system/node/node{node}/memory_side_cache/index{index}");
        t.file(&format!("{dir}/size"), format!("{size}\n")).unwrap();
        t.file(&format!("{dir}/line_size"), "64\n").unwrap();
        t.file(&format!("{dir}/indexing"), format!("{indexing}\n")).unwrap();
        t.file(&format!("{dir}/write_policy"), format!("{policy}\n")).unwrap();
    };
    cache(1, 1, 16 << 30, 0, 0);
    cache(0, 2, 64 << 30, 7, 2);
    cache(0, 1, 8 << 30, 1, 1);
    let p = profile(&t);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let side = p.memory.unwrap().side_caches;
    let c = |node, level, size: u64, indexing: &str, policy: &str| MemorySideCache {
        node,
        level,
        size_bytes: Some(size),
        line_size_bytes: Some(64),
        indexing: Some(indexing.into()),
        write_policy: Some(policy.into()),
    };
    assert_eq!(
        side,
        vec![
            c(0, 1, 8 << 30, "indexed", "write_through"),
            c(0, 2, 64 << 30, "7", "other"),
            c(1, 1, 16 << 30, "direct_mapped", "write_back"),
        ]
    );
}

#[test]
fn pmem_namespaces_and_dax_devices() {
    let (_d, t) = machine();
    let bus = "/sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0012:00/ndbus0";
    // region0: an fsdax namespace whose pmem0 hangs under pfn0.0, and the region's seed.
    let ns0 = format!("{bus}/region0/namespace0.0");
    t.file(&format!("{ns0}/mode"), "fsdax\n").unwrap();
    t.file(&format!("{ns0}/size"), "133175443456\n").unwrap();
    t.file(&format!("{ns0}/numa_node"), "0\n").unwrap();
    t.file(&format!("{bus}/region0/namespace0.1/size"), "0\n").unwrap();
    t.file(&format!("{bus}/region0/namespace0.1/mode"), "raw\n").unwrap();
    t.file(&format!("{bus}/region0/pfn0.0/namespace"), "namespace0.0\n").unwrap();
    t.file(&format!("{bus}/region0/pfn0.0/block/pmem0/size"), "260112384\n").unwrap();
    // region1: a devdax namespace with dax1.0 onlined as system RAM (kmem), node -1 unknown.
    let ns1 = format!("{bus}/region1/namespace1.0");
    t.file(&format!("{ns1}/mode"), "devdax\n").unwrap();
    t.file(&format!("{ns1}/size"), "68719476736\n").unwrap();
    t.file(&format!("{ns1}/numa_node"), "-1\n").unwrap();
    let dax = format!("{bus}/region1/dax1.0/dax1.0");
    t.file(&format!("{dax}/size"), "68717379584\n").unwrap();
    t.file(&format!("{dax}/numa_node"), "1\n").unwrap();
    t.file(&format!("{dax}/target_node"), "3\n").unwrap();
    t.link(&format!("{dax}/driver"), "../../../../../../../bus/dax/drivers/kmem").unwrap();
    for (name, dir) in [
        ("namespace0.0", ns0.as_str()),
        ("namespace0.1", &format!("{bus}/region0/namespace0.1")),
        ("namespace1.0", ns1.as_str()),
        ("region0", &format!("{bus}/region0")),
        ("ndbus0", bus),
    ] {
        t.link(
            &format!("/sys/bus/nd/devices/{name}"),
            &format!("../../..{}", dir.trim_start_matches("/sys")),
        )
        .unwrap();
    }
    t.link("/sys/bus/dax/devices/dax1.0", &format!("../../..{}", dax.trim_start_matches("/sys"))).unwrap();
    t.link(
        "/sys/class/block/pmem0",
        &format!("../..{}/region0/pfn0.0/block/pmem0", bus.trim_start_matches("/sys")),
    )
    .unwrap();
    let p = profile(&t);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let m = p.memory.unwrap();
    assert_eq!(
        m.pmem,
        vec![
            PmemNamespace {
                name: "namespace0.0".into(),
                mode: Some("fsdax".into()),
                size_bytes: Some(133175443456),
                numa_node: Some(0),
                block_device: Some("pmem0".into()),
            },
            PmemNamespace {
                name: "namespace1.0".into(),
                mode: Some("devdax".into()),
                size_bytes: Some(68719476736),
                numa_node: None,
                block_device: None,
            },
        ]
    );
    assert_eq!(
        m.dax,
        vec![DaxDevice {
            name: "dax1.0".into(),
            size_bytes: Some(68717379584),
            numa_node: Some(1),
            target_node: Some(3),
            mode: Some("system_ram".into()),
        }]
    );
}

#[test]
fn smbios_type_17_entries() {
    let (_d, t) = machine();
    let entries = "/sys/firmware/dmi/entries";
    let dimm = memory_device(
        0x28,
        0x1100,
        &[
            // 32 GiB does not fit the 15-bit MB field: 0x7FFF, then the extended size.
            (0x0C, &0x7FFFu16.to_le_bytes()),
            (0x1C, &32768u32.to_le_bytes()),
            (0x0E, &[0x09]),
            (0x10, &[1, 2]),
            (0x12, &[0x22]),
            (0x13, &0x0080u16.to_le_bytes()),
            (0x15, &4800u16.to_le_bytes()),
            (0x17, &[3, 0, 0, 4, 0x01]),
            (0x20, &4400u16.to_le_bytes()),
        ],
        &["DIMM_A1", "BANK 0", "Micron Technology", "MTC20F2085S1RC48BA1"],
    );
    let empty = memory_device(0x28, 0x1101, &[(0x10, &[1]), (0x12, &[0x02])], &["DIMM_B1"]);
    t.file(&format!("{entries}/17-0/raw"), &dimm).unwrap();
    t.file(&format!("{entries}/17-1/raw"), &empty).unwrap();
    // Sorted by number, not by name; other types are not read.
    t.file(&format!("{entries}/17-10/raw"), memory_device(0x15, 0x110a, &[(0x0C, &[0xFF, 0xFF])], &[]))
        .unwrap();
    t.file(&format!("{entries}/16-0/raw"), [16u8, 0x17, 0, 0]).unwrap();
    let p = profile(&t);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let dimms = p.memory.unwrap().dimms.unwrap();
    assert_eq!(dimms.iter().map(|d| d.handle).collect::<Vec<_>>(), vec![0x1100, 0x1101, 0x110a]);
    let d = &dimms[0];
    assert_eq!((d.locator.as_deref(), d.bank_locator.as_deref()), (Some("DIMM_A1"), Some("BANK 0")));
    assert_eq!((d.populated, d.size_bytes), (true, Some(32 << 30)));
    assert_eq!((d.memory_type.as_deref(), d.form_factor.as_deref()), (Some("DDR5"), Some("DIMM")));
    assert_eq!(d.type_detail, vec!["Synchronous".to_string()]);
    assert_eq!((d.speed_mts, d.configured_speed_mts, d.rank), (Some(4800), Some(4400), Some(1)));
    assert_eq!(d.manufacturer.as_deref(), Some("Micron Technology"));
    assert_eq!((d.serial.as_deref(), d.part_number.as_deref()), (None, Some("MTC20F2085S1RC48BA1")));
    assert_eq!(
        (dimms[1].populated, dimms[1].size_bytes, dimms[1].locator.as_deref()),
        (false, Some(0), Some("DIMM_B1"))
    );
    assert_eq!((dimms[2].populated, dimms[2].size_bytes), (true, None));
}

#[test]
fn unreadable_smbios_is_one_error_and_the_memory_section_stays() {
    let (_d, t) = machine();
    // A FIFO where the raw entry should be: opening it is refused, as EACCES is for non-root.
    t.dir("/sys/firmware/dmi/entries/17-0").unwrap();
    t.dir("/sys/firmware/dmi/entries/17-1").unwrap();
    for i in 0..2 {
        let fifo = t.path().join(format!("sys/firmware/dmi/entries/17-{i}/raw"));
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
    }
    let p = profile(&t);
    let m = p.memory.expect("the memory section still reports");
    assert_eq!(m.dimms, None);
    assert!(m.total_bytes > 0);
    assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
    assert_eq!(p.errors[0].path.as_deref(), Some("/sys/firmware/dmi/entries/17-0/raw"));
}

#[test]
fn no_smbios_no_hmat_no_pmem_is_empty_not_an_error() {
    let (_d, t) = machine();
    let p = profile(&t);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let m = p.memory.unwrap();
    assert_eq!((m.dimms, m.side_caches.len(), m.pmem.len(), m.dax.len()), (None, 0, 0, 0));
}
