//! CPU lists (`0-3,8,0-7:2`) and masks (`ff,0000000f`): never panic, stay within memory bounds,
//! and what parses formats back to the same set. Cache and link-speed sizes ride along.
#![no_main]

use hypermesh_os::cpulist::{format_list, parse_list, parse_mask};
use hypermesh_os::linux::cpu::caches::parse_size;
use hypermesh_os::linux::network::parse_speed;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for parsed in [parse_list(&text), parse_mask(&text)] {
        if let Ok(cpus) = parsed {
            assert!(cpus.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
            assert_eq!(parse_list(&format_list(&cpus)).as_ref(), Ok(&cpus));
        }
    }
    let _ = (parse_size(&text), parse_speed(&text));
});
