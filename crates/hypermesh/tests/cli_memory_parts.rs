//! `hypermesh profile` tables for the allowed set and the memory parts, on a hand-made tree.

#![cfg(native_linux)]

use hypermesh_os::linux::smbios::blob::memory_device;
use hypermesh_testkit::synthetic::{Machine, Tree};
use std::process::Command;

#[test]
fn tables_show_allowed_sets_dimms_side_caches_pmem_and_dax() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tree::new(dir.path()).unwrap();
    Machine::x86(2, 2, 1).write(&t).unwrap();
    t.file("/proc/self/status", "Cpus_allowed_list:\t1-2\nMems_allowed_list:\t1\n").unwrap();
    let dimm = memory_device(
        0x28,
        1,
        &[(0x0C, &16384u16.to_le_bytes()), (0x10, &[1, 2]), (0x12, &[0x1A]), (0x15, &3200u16.to_le_bytes())],
        &["DIMM_A1", "BANK 0"],
    );
    t.file("/sys/firmware/dmi/entries/17-0/raw", &dimm).unwrap();
    t.file("/sys/firmware/dmi/entries/17-1/raw", memory_device(0x28, 2, &[(0x10, &[1])], &["DIMM_B1"]))
        .unwrap();
    let side = "/sys/devices/system/node/node1/memory_side_cache/index1";
    for (f, v) in [("size", "17179869184"), ("line_size", "64"), ("indexing", "0"), ("write_policy", "0")] {
        t.file(&format!("{side}/{f}"), v).unwrap();
    }
    let ns = "/sys/devices/ndbus0/region0/namespace0.0";
    t.file(&format!("{ns}/mode"), "fsdax\n").unwrap();
    t.file(&format!("{ns}/size"), "1073741824\n").unwrap();
    t.file(&format!("{ns}/numa_node"), "1\n").unwrap();
    t.link("/sys/bus/nd/devices/namespace0.0", "../../../devices/ndbus0/region0/namespace0.0").unwrap();
    let dax = "/sys/devices/ndbus0/region1/dax1.0/dax1.0";
    t.file(&format!("{dax}/size"), "2147483648\n").unwrap();
    t.file(&format!("{dax}/target_node"), "2\n").unwrap();
    t.link("/sys/bus/dax/devices/dax1.0", "../../../devices/ndbus0/region1/dax1.0/dax1.0").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hypermesh"))
        .args(["--root", dir.path().to_str().unwrap(), "profile", "--section", "cpu,numa,memory"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    // Each row with its cells' spacing collapsed, found by its first words.
    let words = |start: &str| {
        text.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("{start}: {text}"))
    };
    assert_eq!(words("allowed cpus"), "allowed cpus 1-2 (proc_status /proc/self/status)");
    assert_eq!(words("allowed nodes"), "allowed nodes: 1 (proc_status /proc/self/status)");
    assert_eq!(words("DIMM_A1"), "DIMM_A1 BANK 0 16.0 GiB DDR4 3200 MT/s - - -");
    assert_eq!(words("DIMM_B1"), "DIMM_B1 - empty - - - - -");
    assert_eq!(words("L1 1"), "L1 1 16.0 GiB 64 B direct_mapped write_back");
    assert_eq!(words("namespace0.0"), "namespace0.0 fsdax 1.0 GiB 1 -");
    assert_eq!(words("dax1.0"), "dax1.0 - 2.0 GiB - 2");
    assert!(out.status.success(), "{text}");
}
