//! `/proc/net/dev` never panics.
#![no_main]

use hypermesh_os::usage::netdev;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    let _ = netdev::parse(&String::from_utf8_lossy(data), "/proc/net/dev", &mut out);
});
