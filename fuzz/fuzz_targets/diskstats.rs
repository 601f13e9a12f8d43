//! `/proc/diskstats` (old and new field counts) never panics.
#![no_main]

use hypermesh_os::usage::diskstats;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    let _ = diskstats::parse(&String::from_utf8_lossy(data), "/proc/diskstats", &mut out);
});
