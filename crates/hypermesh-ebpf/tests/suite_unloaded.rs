//! After the whole suite has run (every program, best hooks and forced fallbacks, XDP included)
//! and been dropped, bpftool lists no program of ours loaded since the test started: neither
//! the attached ones nor the variants tried and rejected on the way.

#![cfg(native_linux)]

mod common;

use hypermesh_ebpf::lifecycle::{Loaded, NAME_PREFIX};
use hypermesh_ebpf::programs::{biolatency, exec, runqlat, suite, xdp_counter};
use std::process::Command;
use std::time::{Duration, Instant};

/// (id, name) of every program bpftool lists.
fn bpftool_programs() -> Vec<(u64, String)> {
    let out = Command::new("bpftool").args(["prog", "show", "--json"]).output().expect("run bpftool");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("bpftool JSON");
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["id"].as_u64()?, p["name"].as_str().unwrap_or("").to_string())))
        .collect()
}

#[test]
fn nothing_of_ours_remains_after_the_suite() {
    if !common::root_or_skip("loading the suite") || !common::tool_or_skip("bpftool", "bpftool") {
        return;
    }
    // Kernel program ids only grow: ours are all above the highest id listed now.
    let watermark = bpftool_programs().iter().map(|p| p.0).max().unwrap_or(0);
    let mut specs = suite();
    specs.extend([runqlat::spec_from(1), exec::spec_from(2), biolatency::spec_from(2)]);
    for spec in &specs {
        let loaded = Loaded::load(spec).unwrap_or_else(|e| panic!("{}: {e}", spec.name));
        assert!(!loaded.prog_ids().is_empty());
    }
    xdp_counter::verify_loads().expect("xdp_counter loads");
    // XDP attached for real (native is refused on lo, so generic after a fallback), on the
    // loopback of a network namespace of this thread's own.
    std::thread::spawn(|| {
        // SAFETY: only the network namespace is unshared; no file descriptor table or memory
        // sharing changes under the other threads' feet.
        unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }
            .expect("unshare the network namespace");
        let xdp = xdp_counter::XdpCounter::start("lo").expect("attach XDP to lo");
        assert_eq!(xdp.attached().mode, xdp_counter::Mode::Generic);
    })
    .join()
    .expect("xdp thread");

    let deadline = Instant::now() + Duration::from_secs(10);
    let left = loop {
        let left: Vec<(u64, String)> = bpftool_programs()
            .into_iter()
            .filter(|(id, name)| *id > watermark && name.starts_with(NAME_PREFIX))
            .collect();
        if left.is_empty() || Instant::now() > deadline {
            break left;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(left.is_empty(), "still loaded after the suite was dropped: {left:?}");
}
