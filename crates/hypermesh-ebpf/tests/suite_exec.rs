//! exec: 100 runs of /bin/true are counted under comm "true", with the best hook and with each
//! fallback.

#![cfg(native_linux)]

mod common;

use hypermesh_ebpf::programs::exec::{Exec, spec_from};
use std::process::Command;
use std::sync::Mutex;

/// Both tests count every exec on the machine; one at a time keeps their counts apart.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn true_x100_counted(skip: usize) {
    if !common::root_or_skip("exec counting") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let ex = Exec::start_spec(&spec_from(skip)).expect("load exec");
    for _ in 0..100 {
        assert!(Command::new("/bin/true").status().expect("run /bin/true").success());
    }
    let counts = ex.counts().expect("read counts");
    let n = counts.iter().find(|(c, _)| c == "true").map(|c| c.1).unwrap_or(0);
    let hook = ex.loaded().chosen()[0].variant.kind();
    assert!(n >= 100, "execs of true via {hook}: {n} (< 100); all: {counts:?}");
}

#[test]
fn true_x100_best_hook() {
    true_x100_counted(0);
}

#[test]
fn true_x100_classic_tracepoint() {
    true_x100_counted(2);
}
