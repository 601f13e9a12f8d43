//! `/proc/meminfo` and per-node meminfo: the inventory parser and the usage gauges never panic.
#![no_main]

use hypermesh_os::linux::meminfo::Meminfo;
use hypermesh_os::usage::memory;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let m = Meminfo::parse(&text);
    let _ = (m.get("MemTotal"), m.get("HugePages_Total"));
    let _ = memory::parse(&text, "/proc/meminfo");
});
