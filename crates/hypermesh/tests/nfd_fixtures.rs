//! NFD labels from captured hosts (the shared node_exporter and procfs fixture trees).

#![cfg(native_linux)]

use hypermesh::nfd;
use hypermesh_os::FsRoot;
use hypermesh_os::linux::LinuxBackend;
use hypermesh_testkit as testing;

fn labels_for(fixture: &str) -> Option<(hypermesh_os::HostProfile, Vec<nfd::Label>)> {
    let (_tmp, dir) = testing::unpack_fixture(fixture)?;
    let profile = hypermesh_os::detect(&LinuxBackend::new(FsRoot::new(&dir).unwrap()), &[]);
    let labels = nfd::labels(&profile, &[]);
    Some((profile, labels))
}

fn value<'a>(labels: &'a [nfd::Label], name: &str) -> Option<&'a str> {
    labels.iter().find(|l| l.name == name).map(|l| l.value.as_str())
}

#[test]
fn node_exporter_fixture_labels_are_valid() {
    let Some((profile, labels)) = labels_for("node_exporter") else { return };
    let Some(cpu) = &profile.cpu else {
        return testing::skip("the inventory's cpu section is not implemented in this tree");
    };
    assert!(labels.iter().all(|l| nfd::is_valid(&l.name) && nfd::is_valid(&l.value)), "{labels:?}");
    assert_eq!(value(&labels, "cpu-logical-cpus"), Some(cpu.logical_cpus.to_string().as_str()));
    assert_eq!(value(&labels, "cpu-sockets"), Some(cpu.packages.to_string().as_str()));
    if let Some(storage) = &profile.storage {
        let nvme = storage.block_devices.iter().any(|d| d.name.starts_with("nvme"));
        assert_eq!(value(&labels, "storage-nvme"), Some(nvme.to_string().as_str()));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = nfd::write(dir.path(), &labels).unwrap();
    for line in std::fs::read_to_string(path).unwrap().lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = line.split_once('=').unwrap();
        let name = name.strip_prefix(nfd::PREFIX).unwrap();
        assert!(nfd::is_valid(name) && nfd::is_valid(value), "{line}");
    }
}

#[test]
fn procfs_fixture_gpu_labels() {
    let Some((profile, labels)) = labels_for("procfs") else { return };
    if profile.errors.iter().any(|e| e.section == hypermesh_os::Section::Gpus) {
        return testing::skip("the inventory's gpus section is not implemented in this tree");
    }
    // card0 is an AMD GPU with 8573157376 bytes of VRAM, card1 an Intel integrated one.
    assert_eq!(value(&labels, "gpu-count"), Some(profile.gpus.len().to_string().as_str()));
    assert!(profile.gpus.len() >= 2, "{:?}", profile.gpus);
    assert!(labels.iter().all(|l| nfd::is_valid(&l.name) && nfd::is_valid(&l.value)), "{labels:?}");
}
