//! Conformance with node_exporter's fixture tree: interface MTU and speed as node_exporter
//! itself reports them in `expected/e2e-output.txt`.

#![cfg(native_linux)]

use hypermesh_os::FsRoot;
use hypermesh_os::linux::network;
use hypermesh_testkit::unpack_fixture;

/// `(device, value)` of every `metric{device="..."} value` line.
fn per_device(text: &str, metric: &str) -> Vec<(String, f64)> {
    let prefix = format!("{metric}{{device=\"");
    text.lines()
        .filter_map(|l| {
            let (dev, rest) = l.strip_prefix(&prefix)?.split_once("\"}")?;
            Some((dev.to_string(), rest.trim().parse().ok()?))
        })
        .collect()
}

#[test]
fn node_exporter_mtu_and_speed() {
    let Some((_tmp, dir)) = unpack_fixture("node_exporter") else { return };
    let expected = std::fs::read_to_string(dir.join("expected/e2e-output.txt")).unwrap();
    let root = FsRoot::new(&dir).unwrap();
    let net = network::detect(&root, &mut Vec::new()).unwrap();
    let get = |name: &str| net.interfaces.iter().find(|i| i.name == name);

    let mtus = per_device(&expected, "node_network_mtu_bytes");
    let speeds = per_device(&expected, "node_network_speed_bytes");
    assert!(!mtus.is_empty() && !speeds.is_empty());
    // `lo` in the expected output came from the upstream test host, not from the tree.
    for (dev, mtu) in mtus.iter().filter(|(d, _)| d != "lo") {
        assert_eq!(get(dev).and_then(|i| i.mtu), Some(*mtu as u32), "{dev}");
    }
    for (dev, bytes) in speeds.iter().filter(|(d, _)| d != "lo") {
        assert_eq!(get(dev).and_then(|i| i.speed_mbps).map(|m| m as f64 * 125_000.0), Some(*bytes), "{dev}");
    }
    let eth0 = get("eth0").unwrap();
    assert_eq!((eth0.pci_address.as_deref(), eth0.is_virtual), (Some("0000:03:00.0"), false));
    assert_eq!(get("bond0").and_then(|i| i.kind.as_deref()), Some("bond"));
    assert!(get("bonding_masters").is_none());
}
