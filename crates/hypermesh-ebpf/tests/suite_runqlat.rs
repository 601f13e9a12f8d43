//! runqlat: each attach variant, forced alone, records run-queue latency under scheduler load.
//! The raw_tp variant reads no kernel struct, so it counts the same where the kernel's BTF is
//! hidden (the CLI test `run_raw_tp_counts_with_btf_hidden` runs it so).

#![cfg(native_linux)]

mod common;

use hypermesh_ebpf::probe::{self, ProbeOptions, Verdict};
use hypermesh_ebpf::programs::runqlat::{Runqlat, spec_from};
use hypermesh_os::FsRoot;
use std::sync::Mutex;
use std::time::Duration;

/// One at a time: each test loads the same hooks.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn records(kind: &str) {
    if !common::root_or_skip("runqlat") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let rq = Runqlat::start_spec(&spec_from(0).forcing(kind).expect("variant")).expect("load runqlat");
    assert!(rq.loaded().chosen().iter().all(|c| c.variant.kind() == kind), "{:?}", rq.loaded().chosen());
    common::scheduler_load(Duration::from_millis(500));
    let h = rq.histogram().expect("histogram");
    // Thousands of wakeups in 0.5 s; far fewer would mean most switches went unmatched.
    assert!(h.total() >= 1000, "{kind}: {} latencies recorded: {h:?}", h.total());
}

#[test]
fn tp_btf_records() {
    if common::btf_or_skip() {
        records("tp_btf");
    }
}

#[test]
fn raw_tracepoint_records() {
    records("raw_tracepoint");
}

#[test]
fn classic_tracepoint_records() {
    records("tracepoint");
}

/// `ebpf probe` calls the `tracing` program type supported only where a tracing program loads:
/// its verdict agrees with loading runqlat's tp_btf programs (tracing programs) here. On this CI
/// kernel fentry is refused by lockdown while tp_btf loads: supported, with fentry's refusal said.
#[test]
fn probe_tracing_verdict_agrees_with_a_real_load() {
    if !common::root_or_skip("probe and runqlat") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let p = probe::probe(&FsRoot::host(), ProbeOptions::full()).expect("probe");
    let tracing = &p.program_types["tracing"];
    let loads = Runqlat::start_spec(&spec_from(0).forcing("tp_btf").unwrap());
    assert_eq!(tracing.verdict == Verdict::Supported, loads.is_ok(), "{tracing:?} vs {:?}", loads.err());
    if p.attach["fentry"].verdict == Verdict::Denied && tracing.verdict == Verdict::Supported {
        assert!(tracing.detail.contains("fentry denied"), "{tracing:?}");
    }
}
