//! `uevent` files of net devices and PCI devices never panic.
#![no_main]

use hypermesh_os::gpu::pci;
use hypermesh_os::linux::network;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = network::parse_uevent(&text);
    let _ = pci::parse_uevent(&text);
});
