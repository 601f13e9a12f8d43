//! Self-cost: statistics count every run of our program while a measurement is open, and stop
//! counting once it is finished (the BPF_ENABLE_STATS descriptor is closed).

#![cfg(native_linux)]

mod common;

use hypermesh_ebpf::programs::syscalls::Syscalls;
use hypermesh_ebpf::stats::Measurement;

const CALLS: u64 = 20_000;

fn getppid_x(n: u64) {
    for _ in 0..n {
        // SAFETY: no arguments, cannot fail.
        unsafe { libc::getppid() };
    }
}

/// Run count of program `id` as the kernel reports it now.
fn run_count(id: u32) -> u64 {
    aya::programs::loaded_programs().flatten().find(|p| p.id() == id).map(|p| p.run_count()).unwrap()
}

#[test]
fn counts_runs_only_while_measuring() {
    if !common::root_or_skip("BPF statistics") {
        return;
    }
    let sysctl_on =
        std::fs::read_to_string("/proc/sys/kernel/bpf_stats_enabled").is_ok_and(|s| s.trim() == "1");
    let sc = Syscalls::start().expect("load syscalls");
    let ids = sc.loaded().prog_ids();
    let m = Measurement::start(&ids).expect("enable statistics");
    getppid_x(CALLS);
    let cost = m.finish().expect("read statistics");
    assert_eq!(cost.len(), 1, "{cost:?}");
    let c = &cost[0];
    assert!(c.name.starts_with("hm_sc_"), "{c:?}");
    assert!(c.run_cnt >= CALLS, "{CALLS} getppid calls, {} runs counted", c.run_cnt);
    assert!(c.run_time_ns > 0 && c.ns_per_event.is_some_and(|ns| ns > 0.0), "{c:?}");
    if sysctl_on {
        eprintln!("note: kernel.bpf_stats_enabled=1 keeps statistics on; not checking they stop");
        return;
    }
    let before = run_count(ids[0]);
    getppid_x(CALLS);
    assert_eq!(run_count(ids[0]), before, "statistics still counting after finish()");
}
