//! Conformance with node_exporter's fixture tree: block devices' rotational flag and NVMe
//! identity as node_exporter itself reports them (`expected/e2e-output.txt`), and its mountinfo.

#![cfg(native_linux)]

use hypermesh_os::FsRoot;
use hypermesh_os::linux::storage;
use hypermesh_testkit::unpack_fixture;
use std::collections::BTreeMap;

/// Labels of every line of `metric{...} value` in node_exporter's expected output.
fn metric_labels(text: &str, metric: &str) -> Vec<BTreeMap<String, String>> {
    let prefix = format!("{metric}{{");
    text.lines()
        .filter_map(|l| l.strip_prefix(&prefix)?.split_once("} ").map(|(labels, _)| labels))
        .map(|labels| {
            labels
                .split("\",")
                .filter_map(|kv| kv.split_once("=\""))
                .map(|(k, v)| (k.to_string(), v.trim_end_matches('"').to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn node_exporter_block_devices_nvme_and_mounts() {
    let Some((_tmp, dir)) = unpack_fixture("node_exporter") else { return };
    let expected = std::fs::read_to_string(dir.join("expected/e2e-output.txt")).unwrap();
    let root = FsRoot::new(&dir).unwrap();
    let mut problems = Vec::new();
    let s = storage::detect(&root, &mut problems).unwrap();

    // Rotational flag of every disk both report (the tree is a collage: node_disk_info comes
    // from diskstats + udev, /sys/block holds other disks; sda is in both).
    let mut compared = 0;
    for info in metric_labels(&expected, "node_disk_info") {
        let Some(d) = s.block_devices.iter().find(|d| d.name == info["device"]) else { continue };
        if let Some(rot) = d.rotational {
            assert_eq!(rot, info["rotational"] == "1", "{}", d.name);
            compared += 1;
        }
    }
    assert!(compared >= 1, "no disk in common with node_disk_info");
    let sda = s.block_devices.iter().find(|d| d.name == "sda").unwrap();
    assert_eq!(sda.kind, hypermesh_os::model::DiskKind::Hdd);
    for name in ["dm-5", "md0"] {
        let d = s.block_devices.iter().find(|d| d.name == name).unwrap();
        assert_eq!(d.kind, hypermesh_os::model::DiskKind::Virtual, "{name}");
    }

    let nvme = metric_labels(&expected, "node_nvme_info");
    assert_eq!(nvme.len(), s.nvme_controllers.len());
    for info in nvme {
        let c = s.nvme_controllers.iter().find(|c| c.name == info["device"]).unwrap();
        assert_eq!(c.model.as_deref(), Some(info["model"].as_str()));
        assert_eq!(c.serial.as_deref(), Some(info["serial"].as_str()));
        assert_eq!(c.firmware.as_deref(), Some(info["firmware_revision"].as_str()));
        assert_eq!(c.state.as_deref(), Some(info["state"].as_str()));
        assert_eq!(c.cntlid.map(|n| n.to_string()).as_deref(), Some(info["cntlid"].as_str()));
        assert_eq!(c.namespaces, ["nvme0n1"]);
    }

    // Mounts come from proc/1/mountinfo (the host's init), pseudo filesystems left out, the
    // escaped vSphere paths decoded, and no statvfs figures for a captured tree.
    let points: Vec<&str> = s.filesystems.iter().map(|f| f.mount_point.as_str()).collect();
    assert!(points.contains(&"/") && points.contains(&"/boot"), "{points:?}");
    for pseudo in ["/sys", "/proc", "/dev", "/dev/pts", "/sys/fs/cgroup/cpuset", "/dev/hugepages"] {
        assert!(!points.contains(&pseudo), "{pseudo} in {points:?}");
    }
    assert!(points.contains(&"/sys/fs/cgroup"), "tmpfs is kept, like df: {points:?}");
    assert!(points.iter().any(|p| p.contains("[vsanDatastore] bafb9e5a")), "{points:?}");
    assert!(s.filesystems.iter().all(|f| f.total_bytes.is_none()));
    assert!(s.filesystems.iter().all(|f| f.fs_type != "fuse.gvfsd-fuse"));
}
