//! syscalls: 100000 getppid calls from this thread are counted under its comm, with each
//! variant of the chain (tp_btf reads the comm from the task, the others through a helper).

#![cfg(native_linux)]

mod common;

use hypermesh_ebpf::programs::syscalls::{Syscalls, spec_from};
use std::sync::Mutex;

/// Each test counts every getppid on the machine; one at a time keeps the totals apart.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn getppid_100000_counted(skip: usize, kind: &str) {
    if !common::root_or_skip("syscall counting") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let sc = Syscalls::start_spec(&spec_from(skip)).expect("load syscalls");
    assert_eq!(sc.loaded().chosen()[0].variant.kind(), kind);
    let comm = std::fs::read_to_string("/proc/thread-self/comm").expect("comm");
    let comm = comm.trim_end().to_owned();
    for _ in 0..100_000 {
        // SAFETY: getppid has no arguments and cannot fail.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
    let counts = sc.counts(usize::MAX).expect("read counts");
    let getppid = counts.iter().find(|c| c.nr == libc::SYS_getppid as u32).expect("getppid seen");
    let ours = getppid.by_comm.iter().find(|(c, _)| *c == comm).map(|c| c.1).unwrap_or(0);
    assert!(ours >= 100_000, "getppid for {comm} via {kind}: {ours} (< 100000); all: {getppid:?}");
    assert!(getppid.count >= ours);
}

#[test]
fn getppid_counted_via_tp_btf() {
    if !common::btf_or_skip() {
        return;
    }
    getppid_100000_counted(0, "tp_btf");
}

#[test]
fn getppid_counted_via_raw_tracepoint() {
    getppid_100000_counted(1, "raw_tracepoint");
}

#[test]
fn getppid_counted_via_classic_tracepoint() {
    getppid_100000_counted(2, "tracepoint");
}
