//! Health sources read from node_exporter's fixture tree (hwmon, EDAC, thermal) and from this
//! host (disks that cannot report say why). The full comparison with node_exporter's golden
//! output is `crates/hypermesh-server/tests/health_golden.rs`.
#![cfg(native_linux)]

use hypermesh_os::FsRoot;
use hypermesh_os::health::{self, Status, Subject, hwmon::SensorKind};
use hypermesh_testkit::unpack_fixture;

#[test]
fn node_exporter_tree() {
    let Some((_tmp, dir)) = unpack_fixture("node_exporter") else { return };
    let report = health::check(&FsRoot::new(&dir).unwrap());
    assert!(report.errors.is_empty(), "{:?}", report.errors);

    let chips: Vec<&str> = report.sensors.iter().map(|c| c.chip.as_str()).collect();
    assert_eq!(
        chips,
        [
            "platform_coretemp_0",
            "platform_coretemp_1",
            "ieee80211_phy0_mt7996_phy0_2",
            "platform_applesmc_768",
            "nct6779",
            "hwmon4",
            "bogus",
            "platform_asus_nb_wmi_asus",
            "platform_asus_nb_wmi_asus_wmi_sensors",
            "ieee80211_phy0_mt7996_phy0_0",
            "ieee80211_phy0_mt7996_phy0_1",
        ]
    );
    let coretemp = &report.sensors[0];
    assert_eq!(coretemp.name.as_deref(), Some("coretemp"));
    let t2 = coretemp.sensors.iter().find(|s| s.sensor == "temp2").unwrap();
    assert_eq!((t2.kind, t2.label.as_deref()), (SensorKind::Temperature, Some("Core 0")));
    assert_eq!((t2.input, t2.max, t2.crit), (Some(54.0), Some(84.0), Some(100.0)));
    assert_eq!(t2.alarms.get("crit_alarm"), Some(&false));
    // applesmc keeps its fans in the device directory.
    let fan1 = report.sensors[3].sensors.iter().find(|s| s.sensor == "fan1").unwrap();
    assert_eq!(
        (fan1.label.as_deref(), fan1.input, fan1.min, fan1.max),
        (Some("Left side"), Some(0.0), Some(2160.0), Some(6156.0))
    );
    // nct6779: in1 and both intrusion alarms are raised.
    let nct = &report.sensors[4];
    let in0 = nct.sensors.iter().find(|s| s.sensor == "in0").unwrap();
    assert_eq!((in0.input, in0.max), (Some(0.792), Some(1.744)));
    let a = nct.assess();
    assert_eq!(a.status, Status::Warning);
    assert_eq!(a.reasons, ["in1 alarm raised", "intrusion0 alarm raised", "intrusion1 alarm raised"]);

    let mc = &report.memory_controllers[0];
    assert_eq!((mc.name.as_str(), mc.correctable_errors, mc.uncorrectable_errors), ("mc0", Some(1), Some(5)));
    assert_eq!((mc.correctable_noinfo, mc.uncorrectable_noinfo), (Some(2), Some(6)));
    assert_eq!(mc.csrows.len(), 3);
    assert_eq!((mc.csrows[2].correctable_errors, mc.csrows[2].uncorrectable_errors), (Some(0), Some(5)));
    let ch1 = &mc.csrows[0].channels[1];
    assert_eq!(
        (ch1.dimm_label.as_deref(), ch1.correctable_errors, ch1.uncorrectable_errors),
        (Some("mc0csrow0channel1"), Some(0), Some(2))
    );
    assert_eq!(mc.csrows[2].channels[0].uncorrectable_errors, None);
    let a = mc.assess();
    assert_eq!(a.status, Status::Failing);
    assert_eq!(a.reasons, ["5 uncorrected memory errors", "1 corrected memory errors"]);

    let zone = &report.thermal_zones[0];
    assert_eq!((zone.kind.as_deref(), zone.temperature_celsius), (Some("cpu-thermal"), Some(12.376)));

    // The fixture's NVMe controller has no device node here: unavailable, with the reason.
    let nvme0 = report.disks.iter().find(|d| d.device == "nvme0").unwrap();
    assert_eq!(nvme0.assessment.status, Status::Unavailable);
    assert!(nvme0.assessment.reasons[0].contains("no device node"), "{:?}", nvme0.assessment);

    let verdicts = report.verdicts();
    let memory = verdicts.iter().find(|v| v.subject == Subject::Memory).unwrap();
    assert_eq!((memory.device.as_str(), memory.assessment.status), ("mc0", Status::Failing));
}

#[test]
fn this_hosts_virtual_disks_are_unsupported_with_the_reason() {
    let report = health::check(&FsRoot::host());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let names =
        std::fs::read_dir("/sys/block").unwrap().filter_map(|e| e.ok()?.file_name().into_string().ok());
    let attached =
        |n: &String| std::fs::read_to_string(format!("/sys/block/{n}/size")).is_ok_and(|s| s.trim() != "0");
    for name in names.filter(|n| n.starts_with("vd") || n.starts_with("zram")).filter(attached) {
        let disk = report.disks.iter().find(|d| d.device == name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(disk.assessment.status, Status::Unsupported, "{disk:?}");
        assert!(!disk.assessment.reasons.is_empty());
        let verdict = report.for_block_device(&name).unwrap();
        assert_eq!(verdict.assessment.status, Status::Unsupported);
    }
}

/// A device node that does not take the NVMe ioctl (here a regular file under an alternate
/// root) makes the controller `unsupported` with the reason, not an error of the report.
#[test]
fn a_device_that_refuses_the_ioctl_is_unsupported() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join("sys/class/nvme/nvme0")).unwrap();
    std::fs::write(root.join("sys/class/nvme/nvme0/model"), "QEMU NVMe Ctrl\n").unwrap();
    std::fs::create_dir_all(root.join("sys/block")).unwrap();
    std::fs::create_dir_all(root.join("dev")).unwrap();
    std::fs::write(root.join("dev/nvme0"), [0u8; 16]).unwrap();
    let report = health::check(&FsRoot::new(root).unwrap());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let nvme0 = &report.disks[0];
    assert_eq!((nvme0.device.as_str(), nvme0.model.as_deref()), ("nvme0", Some("QEMU NVMe Ctrl")));
    assert_eq!(nvme0.assessment.status, Status::Unsupported, "{nvme0:?}");
    assert!(nvme0.assessment.reasons[0].contains("does not take this command"), "{nvme0:?}");
}

/// Two nameless chips of one device get distinct ids (one series each).
#[test]
fn chip_ids_are_unique() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for n in [1, 2] {
        let dir = root.join(format!("sys/devices/platform/foo.0/hwmon/hwmon{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("temp1_input"), format!("{n}0000\n")).unwrap();
        std::os::unix::fs::symlink("../../../foo.0", dir.join("device")).unwrap();
        std::fs::create_dir_all(root.join("sys/class/hwmon")).unwrap();
        std::os::unix::fs::symlink(
            format!("../../devices/platform/foo.0/hwmon/hwmon{n}"),
            root.join(format!("sys/class/hwmon/hwmon{n}")),
        )
        .unwrap();
    }
    let chips = health::hwmon::read(&FsRoot::new(root).unwrap()).unwrap();
    let ids: Vec<&str> = chips.iter().map(|c| c.chip.as_str()).collect();
    assert_eq!(ids, ["platform_foo_0_hwmon1", "platform_foo_0_hwmon2"]);
    assert_eq!(chips[1].sensors[0].input, Some(20.0));
}

/// A virtio-blk disk keeps its serial on the disk itself (`/sys/block/vda/serial`), not on the
/// device: it is reported, and the disk stays `unsupported` (virtio has no health log).
#[test]
fn virtio_serial_read_from_the_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dev = root.join("sys/devices/pci0000:00/0000:00:05.0/virtio1/block/vda");
    std::fs::create_dir_all(&dev).unwrap();
    std::fs::write(dev.join("size"), "1048576\n").unwrap();
    std::fs::write(dev.join("serial"), "HMVBLK0001\n").unwrap();
    std::fs::create_dir_all(root.join("sys/block")).unwrap();
    std::os::unix::fs::symlink(
        "../devices/pci0000:00/0000:00:05.0/virtio1/block/vda",
        root.join("sys/block/vda"),
    )
    .unwrap();
    let report = health::check(&FsRoot::new(root).unwrap());
    let vda = report.disks.iter().find(|d| d.device == "vda").expect("vda reported");
    assert_eq!(vda.serial.as_deref(), Some("HMVBLK0001"));
    assert_eq!(vda.pci_address.as_deref(), Some("0000:00:05.0"));
    assert_eq!(vda.assessment.status, Status::Unsupported, "{vda:?}");
}
