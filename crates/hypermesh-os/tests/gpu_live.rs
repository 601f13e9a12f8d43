//! GPU detection on the machine the tests run on, checked against an independent walk of
//! /sys/bus/pci/devices/*/class.

#![cfg(native_linux)]

use hypermesh_os::FsRoot;
use hypermesh_os::gpu::{detect, nvml};

/// PCI addresses of display-class functions, read with std::fs.
fn display_functions_by_class() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/sys/bus/pci/devices") else { return Vec::new() };
    let mut found: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            std::fs::read_to_string(e.path().join("class")).is_ok_and(|c| c.trim().starts_with("0x03"))
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    found
}

#[test]
fn live_host_lists_every_display_function() {
    let mut problems = Vec::new();
    let gpus = detect(&FsRoot::host(), &mut problems).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let mut addrs: Vec<String> = gpus.iter().map(|g| g.pci_address.clone()).collect();
    addrs.sort();
    assert_eq!(addrs, display_functions_by_class());
    let has_nvidia = gpus.iter().any(|g| g.vendor_id == "10de");
    // NVML is attempted only when an NVIDIA device is present (headless hosts pay nothing).
    assert_eq!(nvml::init_time().is_some(), has_nvidia);
    for g in &gpus {
        let class = std::fs::read_to_string(format!("/sys/bus/pci/devices/{}/class", g.pci_address)).unwrap();
        assert_eq!(format!("0x{}", g.class_code), class.trim());
    }
}
