//! The eBPF bytecode check on arbitrary bytes: ELF objects (any section layout) and raw
//! instruction streams never panic.
#![no_main]

use hypermesh_ebpf::check::{check_bytes, check_object};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = check_bytes(data, 4096);
    let _ = check_object(data, 1_000_000);
});
