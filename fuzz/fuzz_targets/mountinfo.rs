//! `/proc/PID/mountinfo` (octal escapes, optional fields) never panics.
#![no_main]

use hypermesh_os::linux::mountinfo;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mountinfo::parse(&String::from_utf8_lossy(data));
});
