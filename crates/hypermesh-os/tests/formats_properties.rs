//! Properties of the small kernel text formats: CPU lists written every way the kernel (and
//! people) write them, CPU masks with comma-separated 32-bit words, sizes with units (meminfo
//! `kB`, sysfs cache `32K`), and every text parser fed arbitrary strings never panics.

#![cfg(native_linux)]

use hypermesh_os::cpulist::{MAX_CPU, format_list, parse_list, parse_mask};
use hypermesh_os::gpu::pci;
use hypermesh_os::linux::cpu::caches::parse_size;
use hypermesh_os::linux::cpu::cpuinfo::CpuInfo;
use hypermesh_os::linux::meminfo::Meminfo;
use hypermesh_os::linux::network::{parse_speed, parse_uevent};
use hypermesh_os::linux::{mountinfo, platform};
use hypermesh_os::usage::{cgroup, diskstats, memory, netdev, pressure, stat};
use proptest::prelude::*;
use std::collections::BTreeSet;

/// One element of a CPU list: a single CPU, a range, or a strided range, as written.
fn list_part() -> impl Strategy<Value = (String, Vec<u32>)> {
    (0u32..4096, 0u32..64, 1u32..5, 0usize..3, " ?", " ?").prop_map(|(lo, len, stride, form, pre, post)| {
        let hi = lo + len;
        let (text, cpus) = match form {
            0 => (lo.to_string(), vec![lo]),
            1 => (format!("{lo}-{hi}"), (lo..=hi).collect()),
            _ => (format!("{lo}-{hi}:{stride}"), (lo..=hi).step_by(stride as usize).collect()),
        };
        (format!("{pre}{text}{post}"), cpus)
    })
}

/// The kernel's mask layout for a CPU set: 32-bit words, most significant first, 8 hex digits
/// each, comma-separated, with `pad` extra leading zero words.
fn mask_of(cpus: &BTreeSet<u32>, pad: usize, upper: bool) -> String {
    let words = cpus.iter().next_back().map_or(1, |&m| m as usize / 32 + 1) + pad;
    let mut bits = vec![0u32; words];
    for &c in cpus {
        bits[c as usize / 32] |= 1 << (c % 32);
    }
    let hex = |w: &u32| if upper { format!("{w:08X}") } else { format!("{w:08x}") };
    bits.iter().rev().map(hex).collect::<Vec<_>>().join(",")
}

/// Text made of the characters these formats are built from, so that random input reaches
/// past the first token of each parser.
fn formatish() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[ \t\n:=,0-9a-fA-FxkKMGB/()\"'#\\\\-]{0,200}").unwrap()
}

proptest! {
    #[test]
    fn cpu_lists_in_any_written_form_parse_to_their_set(parts in prop::collection::vec(list_part(), 0..12)) {
        let text = parts.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>().join(",");
        let want: Vec<u32> = parts.iter().flat_map(|(_, c)| c.iter().copied()).collect::<BTreeSet<_>>().into_iter().collect();
        let got = parse_list(&format!("{text}\n")).unwrap();
        prop_assert_eq!(&got, &want, "{:?}", text);
        prop_assert_eq!(parse_list(&format_list(&got)).unwrap(), want);
    }

    #[test]
    fn backwards_or_out_of_range_lists_are_errors(hi in 0u32..10_000, back in 1u32..1000, big in (MAX_CPU + 1)..u32::MAX) {
        let backwards = format!("{}-{hi}", hi + back);
        let (alone, range) = (big.to_string(), format!("0-{big}"));
        prop_assert!(parse_list(&backwards).is_err());
        prop_assert!(parse_list(&alone).is_err());
        prop_assert!(parse_list(&range).is_err());
    }

    #[test]
    fn masks_with_commas_parse_to_their_set(
        cpus in prop::collection::btree_set(0u32..2048, 0..64),
        pad in 0usize..4,
        upper: bool,
    ) {
        let mask = mask_of(&cpus, pad, upper);
        let got = parse_mask(&format!("{mask}\n")).unwrap();
        prop_assert_eq!(&got, &cpus.iter().copied().collect::<Vec<_>>(), "{}", mask);
        prop_assert_eq!(parse_list(&format_list(&got)).unwrap(), got);
    }

    #[test]
    fn cache_sizes_with_units(n in 0u64..(1 << 44), unit in 0usize..5, spaced: bool) {
        let (suffix, mult) = [("", 1u64), ("K", 1 << 10), ("k", 1 << 10), ("M", 1 << 20), ("G", 1 << 30)][unit];
        let text = format!("{n}{}{suffix}\n", if spaced && !suffix.is_empty() { " " } else { "" });
        prop_assert_eq!(parse_size(&text), n.checked_mul(mult), "{:?}", text);
    }

    #[test]
    fn meminfo_lines_with_and_without_kb(
        entries in prop::collection::btree_map("[A-Z][A-Za-z_()]{1,20}", (any::<u64>(), any::<bool>()), 1..30),
        node in prop::option::of(0u32..64),
    ) {
        let prefix = node.map(|n| format!("Node {n} ")).unwrap_or_default();
        let text: String = entries
            .iter()
            .map(|(k, (v, kb))| format!("{prefix}{k}:{:>width$}{}\n", v, if *kb { " kB" } else { "" }, width = 16))
            .collect();
        let m = Meminfo::parse(&text);
        for (k, (v, kb)) in &entries {
            let want = if *kb { v.saturating_mul(1024) } else { *v };
            prop_assert_eq!(m.get(k), Some(want), "{}", k);
        }
    }

    #[test]
    fn memory_gauges_add_up(
        total in 1u64..(1 << 40),
        avail in prop::option::of(0u64..(1 << 41)),
        free in 0u64..(1 << 40),
        swap in 0u64..(1 << 40),
        swap_free in 0u64..(1 << 41),
    ) {
        let mut text = format!("MemTotal: {total} kB\nMemFree: {free} kB\nSwapTotal: {swap} kB\nSwapFree: {swap_free} kB\n");
        if let Some(a) = avail {
            text += &format!("MemAvailable: {a} kB\n");
        }
        let m = memory::parse(&text, "/proc/meminfo").unwrap();
        prop_assert_eq!(m.total_bytes, total * 1024);
        prop_assert!(m.available_bytes <= m.total_bytes);
        prop_assert_eq!(m.used_bytes + m.available_bytes, m.total_bytes);
        prop_assert_eq!(m.available_bytes, (avail.unwrap_or(free) * 1024).min(total * 1024));
        prop_assert_eq!(m.swap_used_bytes, (swap * 1024).saturating_sub(swap_free * 1024));
    }

    #[test]
    fn text_parsers_never_panic(s in prop_oneof![formatish(), ".{0,200}", "\\PC{0,100}"]) {
        let _ = parse_list(&s);
        let _ = parse_mask(&s);
        let _ = parse_size(&s);
        let _ = parse_speed(&s);
        let _ = Meminfo::parse(&s);
        let _ = memory::parse(&s, "/proc/meminfo");
        let info = CpuInfo::parse(&s);
        let _ = info.arch_hint(|n| s.contains(n));
        let _ = mountinfo::parse(&s);
        let _ = platform::parse_os_release(&s);
        let _ = parse_uevent(&s);
        let _ = pci::parse_uevent(&s);
        let _ = stat::parse(&s, "/proc/stat");
        let _ = pressure::parse(&s, "/proc/pressure/cpu");
        let _ = cgroup::parse_cpu_max(&s);
        let _ = cgroup::parse_memory_limit(&s, true);
        let mut disks = Vec::new();
        let _ = diskstats::parse(&s, "/proc/diskstats", &mut disks);
        let mut nics = Vec::new();
        let _ = netdev::parse(&s, "/proc/net/dev", &mut nics);
    }
}
