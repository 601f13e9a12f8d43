//! exec: 100 runs of /bin/true are counted for this user under comm "true", with the best hook
//! this kernel attaches (fentry → kprobe → tp_btf → raw tracepoint → tracepoint, as the probe
//! found them) and with the last fallback.

#![cfg(native_linux)]

mod common;

use hypermesh_ebpf::probe::{self, ProbeOptions, Verdict};
use hypermesh_ebpf::programs::exec::{Exec, spec_from};
use hypermesh_os::FsRoot;
use std::process::Command;
use std::sync::Mutex;

/// Both tests count every exec on the machine; one at a time keeps their counts apart.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The exec chain's kinds, best first.
const CHAIN: [&str; 5] = ["fentry", "kprobe", "tp_btf", "raw_tracepoint", "tracepoint"];

/// Loads exec from chain position `skip`, runs /bin/true 100 times, checks the count of
/// (our uid, "true"), and returns the chosen variant's kind and the kinds it fell back from.
fn true_x100_counted(skip: usize) -> Option<(&'static str, Vec<String>)> {
    if !common::root_or_skip("exec counting") {
        return None;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let ex = Exec::start_spec(&spec_from(skip)).expect("load exec");
    for _ in 0..100 {
        assert!(Command::new("/bin/true").status().expect("run /bin/true").success());
    }
    let counts = ex.counts().expect("read counts");
    let uid = rustix::process::getuid().as_raw();
    let n = counts.iter().find(|c| c.comm == "true" && c.uid == uid).map_or(0, |c| c.count);
    let chosen = &ex.loaded().chosen()[0];
    let hook = chosen.variant.kind();
    assert!(n >= 100, "execs of true by uid {uid} via {hook}: {n} (< 100); all: {counts:?}");
    assert!(chosen.fell_back.iter().all(|(_, why)| !why.is_empty()), "each fallback says why");
    Some((hook, chosen.fell_back.iter().map(|(k, _)| k.clone()).collect()))
}

#[test]
fn true_x100_best_hook_as_the_probe_predicts() {
    let Some((hook, fell_back)) = true_x100_counted(0) else { return };
    let p =
        probe::probe(&FsRoot::host(), ProbeOptions { helpers: false, attach: true, mount: true }).unwrap();
    let expected = CHAIN
        .into_iter()
        .find(|k| p.attach[*k].verdict == Verdict::Supported)
        .expect("the probe found one of the chain attachable");
    assert_eq!(hook, expected, "the first kind the probe found attachable is used");
    let before: Vec<&str> = CHAIN.into_iter().take_while(|k| *k != expected).collect();
    assert_eq!(fell_back, before, "each better kind is reported as tried");
    // This kernel (the CI machine's) has no kprobes and denies fentry: exec must say it fell
    // back to a tracepoint hook. Elsewhere fentry or kprobe may win.
    if p.attach["kprobe"].verdict != Verdict::Supported && p.attach["fentry"].verdict != Verdict::Supported {
        assert!(["tp_btf", "raw_tracepoint", "tracepoint"].contains(&hook), "{hook}");
    }
}

#[test]
fn true_x100_classic_tracepoint() {
    let Some((hook, _)) = true_x100_counted(CHAIN.len() - 1) else { return };
    assert_eq!(hook, "tracepoint");
}
