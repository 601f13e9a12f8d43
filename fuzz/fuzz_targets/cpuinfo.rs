//! `/proc/cpuinfo` in any architecture's layout (x86, ARM incl. legacy, POWER, s390x, RISC-V...):
//! parsing, the architecture guess and the ARM part decoding never panic.
#![no_main]

use hypermesh_os::linux::cpu::cpuinfo::{CpuInfo, arm_implementer_name, arm_part_name};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let info = CpuInfo::parse(&text);
    let _ = info.arch_hint(|needle| text.contains(needle));
    for p in &info.processors {
        assert!(info.processor(p.id).is_some());
        if let (Some(imp), Some(part)) = (p.arm_implementer, p.arm_part) {
            let _ = (arm_implementer_name(imp), arm_part_name(imp, part));
        }
    }
    assert!(info.flags.windows(2).all(|w| w[0] < w[1]), "flags sorted and unique");
});
