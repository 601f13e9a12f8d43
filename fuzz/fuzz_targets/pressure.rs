//! PSI files (`/proc/pressure/*`, cgroup `*.pressure`) never panic.
#![no_main]

use hypermesh_os::usage::pressure;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pressure::parse(&String::from_utf8_lossy(data), "/proc/pressure/cpu");
});
