//! Trivial programs held on hooks (`probe::attach::hold`, used by the attach checks and by the
//! suite bench's "empty program" runs): while held they run on every event of their hook, once
//! dropped they are gone, and a hook this kernel lacks gives its verdict instead.

#![cfg(native_linux)]

mod common;

use hypermesh_ebpf::btf_index::BtfIndex;
use hypermesh_ebpf::lifecycle::Variant;
use hypermesh_ebpf::probe::attach::{AttachEnv, Target, hold};
use hypermesh_ebpf::probe::mounts::Mounts;
use hypermesh_ebpf::probe::verdict::Verdict;
use hypermesh_ebpf::stats::Measurement;
use hypermesh_os::FsRoot;

const CALLS: u64 = 1_000;

/// Ids of the programs named `hm_probe` loaded after program `id`.
fn probes_after(id: u32) -> Vec<u32> {
    aya::programs::loaded_programs()
        .flatten()
        .filter(|p| p.id() > id && p.name_as_str() == Some("hm_probe"))
        .map(|p| p.id())
        .collect()
}

#[test]
fn held_programs_run_on_their_hook_and_go_away() {
    // bpftool is the witness that a dropped program is gone.
    if !common::root_or_skip("holding trivial programs") || !common::tool_or_skip("bpftool", "bpftool") {
        return;
    }
    let root = FsRoot::host();
    let mut mounts = Mounts::read(&root).expect("mounts");
    let btf = BtfIndex::vmlinux(&root).ok();
    let env = AttachEnv::new(&root, &mut mounts, true, btf.as_ref());
    let mut variants = vec![
        Variant::RawTp { prog: "-", event: "sys_enter", core: false },
        Variant::Tracepoint { prog: "-", category: "raw_syscalls", event: "sys_enter" },
    ];
    if common::btf_or_skip() {
        variants.push(Variant::TpBtf { prog: "-", event: "sys_enter" });
    }
    for v in &variants {
        let before = aya::programs::loaded_programs().flatten().map(|p| p.id()).max().unwrap_or(0);
        let held = hold(&env, Target::from(v)).unwrap_or_else(|f| panic!("{v:?}: {}", f.detail));
        let ids = probes_after(before);
        assert_eq!(ids.len(), 1, "{v:?}: one trivial program loaded, found {ids:?}");
        let m = Measurement::start(&ids).expect("enable statistics");
        for _ in 0..CALLS {
            // SAFETY: no arguments, cannot fail.
            unsafe { libc::getppid() };
        }
        let cost = m.finish().expect("read statistics");
        assert!(cost[0].run_cnt >= CALLS, "{v:?}: {CALLS} system calls, {} runs", cost[0].run_cnt);
        drop(held);
        assert_eq!(common::wait_gone(&ids), Vec::<u32>::new(), "{v:?}: still loaded after drop");
    }
    if !std::path::Path::new("/sys/bus/event_source/devices/kprobe").exists() {
        let Err(f) = hold(&env, Target::Kprobe("do_nanosleep")) else {
            panic!("kprobe held without a kprobe PMU")
        };
        assert_eq!(f.verdict, Verdict::Absent, "{}", f.detail);
        assert!(f.detail.contains("CONFIG_KPROBES"), "{}", f.detail);
    }
}
