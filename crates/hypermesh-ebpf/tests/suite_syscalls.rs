//! syscalls: 100000 getppid calls from this process are counted under its comm.

#![cfg(native_linux)]

mod common;

use hypermesh_ebpf::programs::syscalls::Syscalls;

#[test]
fn getppid_100000_counted_for_our_comm() {
    if !common::root_or_skip("syscall counting") {
        return;
    }
    let sc = Syscalls::start().expect("load syscalls");
    let comm = std::fs::read_to_string("/proc/thread-self/comm").expect("comm");
    let comm = comm.trim_end().to_owned();
    for _ in 0..100_000 {
        // SAFETY: getppid has no arguments and cannot fail.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
    let counts = sc.counts(usize::MAX).expect("read counts");
    let getppid = counts.iter().find(|c| c.nr == libc::SYS_getppid as u32).expect("getppid seen");
    let ours = getppid.by_comm.iter().find(|(c, _)| *c == comm).map(|c| c.1).unwrap_or(0);
    assert!(ours >= 100_000, "getppid for {comm}: {ours} (< 100000); all: {getppid:?}");
    assert!(getppid.count >= ours);
}
