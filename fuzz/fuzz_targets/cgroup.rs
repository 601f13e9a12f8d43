//! cgroup limit files (`cpu.max`, `memory.max`, v1 `memory.limit_in_bytes`) never panic, and a
//! parsed quota always has a non-zero period.
#![no_main]

use hypermesh_os::usage::cgroup::{parse_cpu_max, parse_memory_limit};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(Some((_, period))) = parse_cpu_max(&text) {
        assert!(period > 0);
    }
    let _ = (parse_memory_limit(&text, true), parse_memory_limit(&text, false));
});
