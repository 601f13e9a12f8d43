//! Network interfaces of this machine, against /sys/class/net and `ip -o addr`.

#![cfg(native_linux)]

use hypermesh_os::FsRoot;
use hypermesh_os::linux::network;
use hypermesh_testkit::skip;
use std::collections::BTreeSet;

#[test]
fn interfaces_match_sys_class_net() {
    let expected: BTreeSet<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let mut problems = Vec::new();
    let net = network::detect(&FsRoot::host(), &mut problems).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let ours: BTreeSet<String> = net.interfaces.iter().map(|i| i.name.clone()).collect();
    assert_eq!(ours, expected);
    let lo = net.interfaces.iter().find(|i| i.name == "lo").unwrap();
    assert_eq!((lo.kind.as_deref(), lo.is_virtual, lo.speed_mbps), (Some("loopback"), true, None));
    for i in &net.interfaces {
        let mtu: u32 = std::fs::read_to_string(format!("/sys/class/net/{}/mtu", i.name))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(i.mtu, Some(mtu), "{}", i.name);
    }
}

#[test]
fn addresses_match_ip_addr() {
    let Ok(out) = std::process::Command::new("ip").args(["-o", "addr", "show"]).output() else {
        skip("ip not installed (apt-get install iproute2)");
        return;
    };
    // Lines: "2: eth0    inet 192.0.2.2/24 brd ... scope global eth0\   valid_lft ..."
    let expected: BTreeSet<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let name = w.get(1)?.split('@').next()?.to_string();
            let addr = w.get(3)?.to_string();
            matches!(*w.get(2)?, "inet" | "inet6").then_some((name, addr))
        })
        .collect();
    let net = network::detect(&FsRoot::host(), &mut Vec::new()).unwrap();
    let ours: BTreeSet<(String, String)> = net
        .interfaces
        .iter()
        .flat_map(|i| i.ipv4.iter().chain(&i.ipv6).map(|a| (i.name.clone(), a.clone())))
        .collect();
    assert_eq!(ours, expected);
    assert!(!ours.is_empty());
}
