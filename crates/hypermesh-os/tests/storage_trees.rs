//! Storage detection on hand-made /sys trees: one of each kind of disk, partitions, NVMe
//! controllers, and broken files.

#![cfg(native_linux)]

use hypermesh_os::FsRoot;
use hypermesh_os::linux::storage::{block, nvme};
use hypermesh_os::model::{BlockDevice, DiskKind};
use std::os::unix::fs::symlink;
use std::path::Path;

fn write(dir: &Path, rel: &str, content: &[u8]) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

/// Creates a disk: under `sys/devices/<devpath>/block/<name>` with a `/sys/block` link, as the
/// kernel does, or (devpath `None`) as a plain directory, as some captured trees hold it.
fn disk(d: &Path, name: &str, devpath: Option<&str>, files: &[(&str, &str)]) {
    let rel = match devpath {
        Some(dp) => {
            let rel = format!("sys/devices/{dp}/block/{name}");
            std::fs::create_dir_all(d.join(&rel)).unwrap();
            std::fs::create_dir_all(d.join("sys/block")).unwrap();
            symlink(format!("../devices/{dp}/block/{name}"), d.join("sys/block").join(name)).unwrap();
            rel
        }
        None => format!("sys/block/{name}"),
    };
    for (f, c) in files {
        write(d, &format!("{rel}/{f}"), c.as_bytes());
    }
}

fn queue(rot: &str) -> [(&'static str, String); 4] {
    [
        ("queue/rotational", format!("{rot}\n")),
        ("queue/logical_block_size", "512\n".into()),
        ("queue/physical_block_size", "4096\n".into()),
        ("queue/scheduler", "none [mq-deadline] kyber\n".into()),
    ]
}

fn with_queue<'a>(rot: &str, files: &[(&'a str, &'a str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = queue(rot).into_iter().map(|(a, b)| (a.to_string(), b)).collect();
    v.extend(files.iter().map(|(a, b)| (a.to_string(), b.to_string())));
    v.push(("removable".into(), "0\n".into()));
    v.push(("ro".into(), "0\n".into()));
    v
}

fn disk_q(d: &Path, name: &str, devpath: Option<&str>, rot: &str, files: &[(&str, &str)]) {
    let v = with_queue(rot, files);
    let refs: Vec<(&str, &str)> = v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    disk(d, name, devpath, &refs);
}

fn machine() -> (tempfile::TempDir, FsRoot) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // NVMe: controller under PCI with one namespace and two partitions.
    let ctrl = "pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0";
    for (f, c) in [
        ("model", "Samsung SSD 980 PRO 1TB                 \n"),
        ("serial", "S5GXNX0T123456K     \n"),
        ("firmware_rev", "5B2QGXA7\n"),
        ("transport", "pcie\n"),
        ("state", "live\n"),
        ("cntlid", "6\n"),
    ] {
        write(d, &format!("sys/devices/{ctrl}/{f}"), c.as_bytes());
    }
    std::fs::create_dir_all(d.join("sys/class/nvme")).unwrap();
    symlink(format!("../../devices/{ctrl}"), d.join("sys/class/nvme/nvme0")).unwrap();
    disk_q(d, "nvme0n1", Some(ctrl), "0", &[("size", "1953525168\n"), ("wwid", "eui.002538b411b2a6c1\n")]);
    std::fs::create_dir_all(d.join(format!("sys/devices/{ctrl}/block/nvme0n1"))).unwrap();
    std::fs::create_dir_all(d.join(format!("sys/devices/{ctrl}/nvme0n1"))).unwrap();
    for (p, start, size) in [("nvme0n1p1", "2048", "1048576"), ("nvme0n1p2", "1050624", "1952474511")] {
        write(d, &format!("sys/devices/{ctrl}/block/nvme0n1/{p}/start"), start.as_bytes());
        write(d, &format!("sys/devices/{ctrl}/block/nvme0n1/{p}/size"), size.as_bytes());
        write(d, &format!("sys/devices/{ctrl}/block/nvme0n1/{p}/partition"), b"1\n");
    }
    // SATA SSD with a VPD serial, SAS HDD, USB stick.
    let ata = "pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0";
    disk_q(
        d,
        "sda",
        Some(ata),
        "0",
        &[
            ("size", "976773168\n"),
            ("device/vendor", "ATA     \n"),
            ("device/model", "Samsung SSD 870\n"),
            ("device/rev", "2B6Q\n"),
        ],
    );
    write(d, &format!("sys/devices/{ata}/block/sda/device/vpd_pg80"), b"\x00\x80\x00\x0fS6PNNX0R123456E");
    let sas = "pci0000:3a/0000:3a:00.0/0000:3b:00.0/host2/port-2:0/end_device-2:0/target2:0:0/2:0:0:0";
    disk_q(
        d,
        "sdb",
        Some(sas),
        "1",
        &[("size", "23437770752\n"), ("device/vendor", "SEAGATE\n"), ("device/model", "ST12000NM0027\n")],
    );
    let usb = "pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0";
    disk(
        d,
        "sdc",
        Some(usb),
        &[
            ("size", "60063744\n"),
            ("removable", "1\n"),
            ("queue/rotational", "1\n"),
            ("device/vendor", "SanDisk\n"),
        ],
    );
    // virtio says rotational=1; zram, loop, dm, md are software.
    disk_q(
        d,
        "vda",
        Some("pci0000:00/0000:00:02.0/virtio1"),
        "1",
        &[("size", "536870912\n"), ("serial", "disk-1\n")],
    );
    disk_q(d, "zram0", Some("virtual"), "0", &[("size", "8388608\n")]);
    disk_q(d, "loop0", Some("virtual"), "0", &[("size", "0\n")]);
    disk_q(d, "loop1", Some("virtual"), "0", &[("size", "2048\n")]);
    disk_q(d, "dm-0", Some("virtual"), "0", &[("size", "4096\n"), ("dm/name", "vg-root\n")]);
    disk(d, "md0", None, &[("size", "8192\n"), ("md/level", "raid1\n")]);
    // Broken: garbage size, truncated (empty) size, no queue files.
    disk(d, "sdd", None, &[("size", "lots\n")]);
    disk(d, "sde", None, &[("size", "")]);
    let root = FsRoot::new(d).unwrap();
    (dir, root)
}

fn find<'a>(devs: &'a [BlockDevice], name: &str) -> &'a BlockDevice {
    devs.iter().find(|d| d.name == name).unwrap_or_else(|| panic!("{name} missing from {devs:#?}"))
}

#[test]
fn every_kind_of_disk() {
    let (_d, root) = machine();
    let mut problems = Vec::new();
    let ctrls = nvme::detect(&root, &mut problems).unwrap();
    let devs = block::detect(&root, &ctrls, &mut problems).unwrap();

    let n = find(&devs, "nvme0n1");
    assert_eq!(n.kind, DiskKind::Nvme);
    assert_eq!(n.size_bytes, Some(1953525168 * 512));
    assert_eq!(n.model.as_deref(), Some("Samsung SSD 980 PRO 1TB"));
    assert_eq!(n.serial.as_deref(), Some("S5GXNX0T123456K"));
    assert_eq!(n.firmware.as_deref(), Some("5B2QGXA7"));
    assert_eq!(n.transport.as_deref(), Some("pcie"));
    assert_eq!(n.wwn.as_deref(), Some("eui.002538b411b2a6c1"));
    assert_eq!(n.scheduler.as_deref(), Some("mq-deadline"));
    assert_eq!((n.logical_block_bytes, n.physical_block_bytes), (Some(512), Some(4096)));
    let parts: Vec<(&str, Option<u64>, Option<u64>)> =
        n.partitions.iter().map(|p| (p.name.as_str(), p.start_sector, p.size_bytes)).collect();
    assert_eq!(
        parts,
        [
            ("nvme0n1p1", Some(2048), Some(1048576 * 512)),
            ("nvme0n1p2", Some(1050624), Some(1952474511 * 512))
        ]
    );

    let sda = find(&devs, "sda");
    assert_eq!((sda.kind, sda.transport.as_deref()), (DiskKind::Ssd, Some("sata")));
    assert_eq!(sda.serial.as_deref(), Some("S6PNNX0R123456E"));
    assert_eq!(sda.vendor.as_deref(), Some("ATA"));
    assert_eq!(sda.firmware.as_deref(), Some("2B6Q"));
    let sdb = find(&devs, "sdb");
    assert_eq!(
        (sdb.kind, sdb.transport.as_deref(), sdb.rotational),
        (DiskKind::Hdd, Some("sas"), Some(true))
    );
    let sdc = find(&devs, "sdc");
    assert_eq!((sdc.kind, sdc.transport.as_deref()), (DiskKind::Removable, Some("usb")));

    let vda = find(&devs, "vda");
    assert_eq!(
        (vda.kind, vda.rotational, vda.serial.as_deref()),
        (DiskKind::Virtual, Some(true), Some("disk-1"))
    );
    for (name, class) in [("zram0", "zram"), ("loop1", "loop"), ("dm-0", "dm"), ("md0", "md")] {
        let d = find(&devs, name);
        assert_eq!((d.kind, d.class.as_deref()), (DiskKind::Virtual, Some(class)), "{name}");
    }
    assert!(devs.iter().all(|d| d.name != "loop0"), "an unattached loop device is not listed");

    let c = &ctrls[0];
    assert_eq!(c.pci_address.as_deref(), Some("0000:3d:00.0"));
    assert_eq!(c.namespaces, ["nvme0n1"]);
    assert_eq!((c.cntlid, c.state.as_deref()), (Some(6), Some("live")));

    // Broken devices are listed with what could be read, and each bad file is a problem.
    let sdd = find(&devs, "sdd");
    assert_eq!((sdd.size_bytes, sdd.kind), (None, DiskKind::Unknown));
    assert_eq!(find(&devs, "sde").size_bytes, None);
    let paths: Vec<String> =
        problems.iter().filter_map(|p| p.path()).map(|p| p.display().to_string()).collect();
    assert_eq!(paths, ["/sys/block/sdd/size", "/sys/block/sde/size"], "{problems:?}");
}

#[test]
fn missing_sys_block_is_an_error_and_missing_nvme_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let root = FsRoot::new(dir.path()).unwrap();
    let mut problems = Vec::new();
    assert!(nvme::detect(&root, &mut problems).unwrap().is_empty());
    let err = block::detect(&root, &[], &mut problems).unwrap_err();
    assert_eq!(err.path().unwrap(), Path::new("/sys/block"));
    // The section as a whole: nothing readable at all is an error, not an empty success.
    assert!(hypermesh_os::linux::storage::detect(&root, &mut problems).is_err());
}
