//! Network detection on a hand-made /sys/class/net: physical NIC, down link, veth, bridge, bond
//! (captured without uevent), loopback, tap, wireless, and broken files.

#![cfg(native_linux)]

use hypermesh_os::FsRoot;
use hypermesh_os::linux::network;
use hypermesh_os::model::Interface;
use std::os::unix::fs::symlink;
use std::path::Path;

fn write(dir: &Path, rel: &str, content: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

/// An interface at `sys/devices/<devpath>/net/<name>`, linked from `/sys/class/net`.
fn iface(d: &Path, name: &str, devpath: &str, files: &[(&str, &str)]) {
    let rel = format!("sys/devices/{devpath}/net/{name}");
    std::fs::create_dir_all(d.join(&rel)).unwrap();
    std::fs::create_dir_all(d.join("sys/class/net")).unwrap();
    symlink(format!("../../devices/{devpath}/net/{name}"), d.join("sys/class/net").join(name)).unwrap();
    for (f, c) in files {
        write(d, &format!("{rel}/{f}"), c);
    }
}

fn machine() -> (tempfile::TempDir, FsRoot) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let nic = "pci0000:00/0000:00:1f.6";
    iface(
        d,
        "eno1",
        nic,
        &[
            ("uevent", "INTERFACE=eno1\nIFINDEX=2\n"),
            ("type", "1\n"),
            ("address", "3c:ec:ef:01:02:03\n"),
            ("mtu", "9000\n"),
            ("operstate", "up\n"),
            ("speed", "10000\n"),
            ("duplex", "full\n"),
        ],
    );
    std::fs::create_dir_all(d.join("sys/bus/pci/drivers/e1000e")).unwrap();
    symlink("../../../0000:00:1f.6", d.join(format!("sys/devices/{nic}/net/eno1/device"))).unwrap();
    symlink("../../../bus/pci/drivers/e1000e", d.join(format!("sys/devices/{nic}/driver"))).unwrap();
    // Up but the driver does not know its speed (-1), and a down link.
    let nic2 = "pci0000:00/0000:00:03.0/virtio2";
    iface(
        d,
        "eth0",
        nic2,
        &[
            ("uevent", "INTERFACE=eth0\nIFINDEX=3\n"),
            ("type", "1\n"),
            ("mtu", "1500\n"),
            ("operstate", "up\n"),
            ("speed", "-1\n"),
            ("duplex", "unknown\n"),
        ],
    );
    iface(
        d,
        "eth1",
        "pci0000:00/0000:00:1c.0/0000:02:00.0",
        &[
            ("uevent", "IFINDEX=4\n"),
            ("type", "1\n"),
            ("mtu", "1500\n"),
            ("operstate", "down\n"),
            ("speed", "-1\n"),
        ],
    );
    let virt = "virtual";
    iface(
        d,
        "lo",
        virt,
        &[
            ("uevent", "INTERFACE=lo\nIFINDEX=1\n"),
            ("type", "772\n"),
            ("mtu", "65536\n"),
            ("operstate", "unknown\n"),
            ("address", "00:00:00:00:00:00\n"),
        ],
    );
    iface(
        d,
        "veth1a2b",
        virt,
        &[
            ("uevent", "INTERFACE=veth1a2b\nIFINDEX=7\n"),
            ("iflink", "6\n"),
            ("type", "1\n"),
            ("mtu", "1500\n"),
            ("operstate", "up\n"),
            ("speed", "10000\n"),
        ],
    );
    iface(
        d,
        "br0",
        virt,
        &[
            ("uevent", "DEVTYPE=bridge\nINTERFACE=br0\nIFINDEX=8\n"),
            ("type", "1\n"),
            ("mtu", "1500\n"),
            ("operstate", "up\n"),
        ],
    );
    iface(
        d,
        "tap0",
        virt,
        &[
            ("uevent", "IFINDEX=9\n"),
            ("iflink", "9\n"),
            ("type", "1\n"),
            ("tun_flags", "0x1002\n"),
            ("mtu", "1500\n"),
        ],
    );
    iface(
        d,
        "wlp2s0",
        "pci0000:00/0000:00:1c.2/0000:02:00.0",
        &[
            ("uevent", "DEVTYPE=wlan\nIFINDEX=10\n"),
            ("type", "1\n"),
            ("mtu", "1500\n"),
            ("operstate", "dormant\n"),
        ],
    );
    iface(
        d,
        "dummy0",
        virt,
        &[("uevent", "IFINDEX=11\n"), ("iflink", "11\n"), ("type", "1\n"), ("mtu", "garbage\n")],
    );
    // A bond captured as a plain directory without uevent, and the class's control file.
    write(d, "sys/class/net/bond0/mtu", "1500\n");
    write(d, "sys/class/net/bond0/type", "1\n");
    write(d, "sys/class/net/bond0/speed", "20000\n");
    write(d, "sys/class/net/bond0/bonding/slaves", "eth1 eth2\n");
    write(d, "sys/class/net/bonding_masters", "bond0\n");
    let root = FsRoot::new(d).unwrap();
    (dir, root)
}

fn find<'a>(all: &'a [Interface], name: &str) -> &'a Interface {
    all.iter().find(|i| i.name == name).unwrap_or_else(|| panic!("{name} missing from {all:#?}"))
}

#[test]
fn every_kind_of_interface() {
    let (_d, root) = machine();
    let mut problems = Vec::new();
    let net = network::detect(&root, &mut problems).unwrap();
    let all = &net.interfaces;
    let names: Vec<&str> = all.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["bond0", "br0", "dummy0", "eno1", "eth0", "eth1", "lo", "tap0", "veth1a2b", "wlp2s0"]);

    let eno1 = find(all, "eno1");
    assert_eq!(eno1.kind.as_deref(), Some("ethernet"));
    assert!(!eno1.is_virtual);
    assert_eq!(eno1.driver.as_deref(), Some("e1000e"));
    assert_eq!(eno1.pci_address.as_deref(), Some("0000:00:1f.6"));
    assert_eq!((eno1.speed_mbps, eno1.duplex.as_deref(), eno1.mtu), (Some(10000), Some("full"), Some(9000)));
    assert_eq!(eno1.mac.as_deref(), Some("3c:ec:ef:01:02:03"));

    let eth0 = find(all, "eth0");
    assert_eq!((eth0.speed_mbps, eth0.duplex.as_deref()), (None, None));
    assert_eq!(eth0.pci_address.as_deref(), Some("0000:00:03.0"), "virtio NIC sits on a PCI function");
    let eth1 = find(all, "eth1");
    assert_eq!((eth1.speed_mbps, eth1.oper_state.as_deref()), (None, Some("down")));

    let kinds: Vec<(&str, Option<&str>, bool)> =
        all.iter().map(|i| (i.name.as_str(), i.kind.as_deref(), i.is_virtual)).collect();
    for expect in [
        ("lo", Some("loopback"), true),
        ("veth1a2b", Some("veth"), true),
        ("br0", Some("bridge"), true),
        ("bond0", Some("bond"), true),
        ("tap0", Some("tap"), true),
        ("wlp2s0", Some("wireless"), false),
        ("dummy0", Some("ethernet"), true),
    ] {
        assert!(kinds.contains(&expect), "{expect:?} not in {kinds:?}");
    }
    assert_eq!(find(all, "lo").speed_mbps, None);
    assert_eq!(find(all, "veth1a2b").speed_mbps, Some(10000));
    assert_eq!(find(all, "bond0").speed_mbps, Some(20000));
    assert!(
        all.iter().all(|i| i.ipv4.is_empty() && i.ipv6.is_empty()),
        "no addresses under an alternate root"
    );

    // The garbage MTU is a problem naming the file; the interface is still listed.
    assert_eq!(find(all, "dummy0").mtu, None);
    let paths: Vec<String> =
        problems.iter().filter_map(|p| p.path()).map(|p| p.display().to_string()).collect();
    assert_eq!(paths, ["/sys/class/net/dummy0/mtu"], "{problems:?}");
}

#[test]
fn missing_class_dir_fails_the_section() {
    let dir = tempfile::tempdir().unwrap();
    let root = FsRoot::new(dir.path()).unwrap();
    let err = network::detect(&root, &mut Vec::new()).unwrap_err();
    assert_eq!(err.path().unwrap(), Path::new("/sys/class/net"));
}
