//! runqlat: each attach variant, forced alone, records run-queue latency under scheduler load.
//! The raw_tp variant reads no kernel struct, so it counts the same where the kernel's BTF is
//! hidden (the CLI test `run_raw_tp_counts_with_btf_hidden` runs it so).

#![cfg(native_linux)]

mod common;

use hypermesh_ebpf::programs::runqlat::{Runqlat, spec_from};
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
