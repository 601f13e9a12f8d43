//! `/etc/os-release` (quotes, escapes, comments) never panics.
#![no_main]

use hypermesh_os::linux::platform::parse_os_release;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_os_release(&String::from_utf8_lossy(data));
});
