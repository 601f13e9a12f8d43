//! Turns the `pci-ids` crate's database into tables without pointers, embedded in the library.
//!
//! `pci-ids` as a run-time dependency is a static tree of ~40 000 `&'static str`s and
//! references: in a position-independent executable each is a relocation the dynamic loader
//! patches at every start (~50 000 of them, about 2 ms of each `hypermesh` run). Here the names
//! go into one text blob and the ids into sorted byte tables of `(id, offset)` records, which
//! need no relocation at all.
//!
//! It also defines the `native_linux` cfg shared by the workspace (see
//! `build-support/native_linux.rs`).

use std::io::Write;
use std::path::Path;

#[path = "../../build-support/native_linux.rs"]
mod native_linux;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    native_linux::declare();
    let mut names = String::new();
    let mut vendors = Vec::new();
    let mut devices = Vec::new();
    for vendor in pci_ids::Vendors::iter() {
        vendors.push((u32::from(vendor.id()), add(&mut names, vendor.name())));
        for device in vendor.devices() {
            let key = u32::from(vendor.id()) << 16 | u32::from(device.id());
            devices.push((key, add(&mut names, device.name())));
        }
    }
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = Path::new(&out);
    std::fs::write(out.join("pci_names.txt"), names).expect("write pci_names.txt");
    write_table(&out.join("pci_vendors.bin"), vendors);
    write_table(&out.join("pci_devices.bin"), devices);
}

/// Appends `name` and a newline to the blob; returns where it starts.
fn add(names: &mut String, name: &str) -> u32 {
    let at = u32::try_from(names.len()).expect("names under 4 GiB");
    names.push_str(name.trim());
    names.push('\n');
    at
}

/// Writes `(key, offset)` records, sorted by key, as little-endian u32 pairs.
fn write_table(path: &Path, mut records: Vec<(u32, u32)>) {
    records.sort_unstable();
    records.dedup_by_key(|r| r.0);
    let mut file = std::fs::File::create(path).expect("create table");
    for (key, offset) in records {
        file.write_all(&key.to_le_bytes()).expect("write table");
        file.write_all(&offset.to_le_bytes()).expect("write table");
    }
}
