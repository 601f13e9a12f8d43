//! `/proc/stat`: CPU time lines, counters and `btime` never panic.
#![no_main]

use hypermesh_os::usage::stat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = stat::parse(&String::from_utf8_lossy(data), "/proc/stat");
});
