//! `hypermesh ebpf` as a whole process: `check` is bounded on hostile input; `run --variant`
//! forces one attach variant and says in its JSON which attached and what it counted.

#![cfg(native_linux)]

use std::process::Command;

fn hypermesh(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hypermesh")).args(args).output().expect("run hypermesh")
}

/// `ebpf check /dev/zero` used to read forever (15.7 GB in 20 s); now it reads one byte past
/// the bound, prints one line and exits 1.
#[test]
fn check_refuses_endless_input_with_one_line() {
    let out = hypermesh(&["ebpf", "check", "/dev/zero"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("input is over") && text.ends_with("REJECTED\n"), "{text}");
    assert!(text.lines().count() <= 3, "{text}");
}

/// A 100 MB file of zeros printed 552 MB of diagnostics; now one line.
#[test]
fn check_refuses_a_100mb_file_with_a_small_output() {
    let dir = tempfile::tempdir().unwrap();
    let zeros = dir.path().join("zeros");
    std::fs::File::create(&zeros).unwrap().set_len(100_000_000).unwrap();
    let out = hypermesh(&["ebpf", "check", zeros.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.len() < 1024, "{} bytes of output", out.stdout.len());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["problems"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["problems"][0]["kind"], "size", "{v}");
}

/// 4,000 invalid instructions (within the limit, privileged or not): at most 20 problems of each
/// kind, then a count.
#[test]
fn check_caps_repeated_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.bin");
    std::fs::write(&bad, [0xffu8, 0, 0, 0, 0, 0, 0, 0].repeat(4000)).unwrap();
    let out = hypermesh(&["ebpf", "check", bad.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(text.lines().filter(|l| l.contains("invalid opcode")).count(), 20, "{text}");
    assert!(text.contains("... and 3980 more opcode problems"), "{text}");
    assert!(text.lines().count() < 30, "{text}");
}

/// True when the test may load programs (root), else a skip.
fn root_or_skip(what: &str) -> bool {
    if hypermesh_testkit::is_root() {
        return true;
    }
    hypermesh_testkit::skip(&format!("{what} needs root (loads eBPF programs)"));
    false
}

/// `run --json` output as JSON, with the exit status.
fn run_json(args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let out = hypermesh(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), v, stderr)
}

/// A forced variant attaches every hook with that variant, and the JSON says which and how
/// many events it counted (the fields the QEMU rig's report is built from).
#[test]
fn run_forced_variant_reports_variant_and_events() {
    if !root_or_skip("ebpf run") {
        return;
    }
    for (program, variant) in
        [("runqlat", "tracepoint"), ("syscalls", "raw_tp"), ("runqlat", "raw_tracepoint")]
    {
        let (code, v, stderr) =
            run_json(&["ebpf", "run", program, "--variant", variant, "--json", "--duration", "500ms"]);
        assert_eq!(code, Some(0), "{program} {variant}: {stderr}");
        let want = if variant == "raw_tp" { "raw_tracepoint" } else { variant };
        assert_eq!(v["program"], program, "{v}");
        assert_eq!(v["variant"], want, "{v}");
        assert!(v["events"].as_u64().is_some_and(|n| n > 0), "{program} {variant}: {v}");
        let kinds: Vec<&str> =
            v["attached"].as_array().unwrap().iter().filter_map(|a| a["variant"]["kind"].as_str()).collect();
        assert!(!kinds.is_empty() && kinds.iter().all(|k| *k == want), "{kinds:?}");
    }
}

/// A variant the kernel refuses fails with the errno and its meaning, never falls back.
#[test]
fn run_forced_variant_that_cannot_attach_says_why() {
    if !root_or_skip("ebpf run") {
        return;
    }
    let kprobes = std::path::Path::new("/sys/bus/event_source/devices/kprobe").exists();
    let (variant, reason) = if kprobes { ("fentry", "") } else { ("kprobe", "no kprobes") };
    let (code, _, stderr) =
        run_json(&["ebpf", "run", "exec", "--variant", variant, "--json", "--duration", "100ms"]);
    if code == Some(0) {
        hypermesh_testkit::skip(&format!("exec attaches as {variant} here: no refusal to check"));
        return;
    }
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("exec cannot attach as {variant} here (forced with --variant)")),
        "{stderr}"
    );
    assert!(stderr.contains("os error") && stderr.contains(reason), "{stderr}");
    let (code, _, stderr) = run_json(&["ebpf", "run", "runqlat", "--variant", "kprobe", "--json"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("runqlat has no kprobe variant"), "{stderr}");
    let out = hypermesh(&["ebpf", "run", "runqlat", "--variant", "bogus"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown variant \"bogus\""));
}

/// With the kernel's BTF hidden (an empty file bind-mounted over it, in a private mount
/// namespace), runqlat falls back to raw_tp and still records latencies. Before, its raw_tp
/// programs read task_struct fields at this file's offsets (no CO-RE without BTF): nothing.
#[test]
fn run_raw_tp_counts_with_btf_hidden() {
    if !root_or_skip("ebpf run") {
        return;
    }
    let script = format!(
        "mount --bind /dev/null /sys/kernel/btf/vmlinux && exec {} ebpf run runqlat --json --duration 1s",
        env!("CARGO_BIN_EXE_hypermesh")
    );
    let Ok(out) = Command::new("unshare").args(["-m", "sh", "-c", &script]).output() else {
        hypermesh_testkit::skip("unshare not found (util-linux)");
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["variant"], "raw_tracepoint", "{v}");
    assert!(v["events"].as_u64().is_some_and(|n| n > 0), "{v}");
}

/// With the kernel's BTF hidden, biolatency's raw_tp variant (CO-RE reads of the request) is
/// refused as needing BTF instead of reading garbage offsets, and the default chain ends at the
/// classic tracepoint, which decodes a direct write as "write" (the rwbs offset from tracefs).
#[test]
fn biolatency_with_btf_hidden_uses_the_classic_tracepoint() {
    if !root_or_skip("ebpf run") {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_hypermesh");
    let hidden = "mount --bind /dev/null /sys/kernel/btf/vmlinux";
    let Ok(out) = Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            &format!("{hidden} && exec {bin} ebpf run biolatency --variant raw_tp --json"),
        ])
        .output()
    else {
        hypermesh_testkit::skip("unshare not found (util-linux)");
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("CO-RE reads need"), "{stderr}");
    let dir = tempfile::tempdir_in("/var/tmp").unwrap();
    let file = dir.path().join("direct.bin");
    let write = format!(
        "(sleep 0.5; dd if=/dev/zero of={} bs=1M count=16 oflag=direct conv=fsync status=none) &",
        file.display()
    );
    let script = format!("{hidden} || exit 1; {write} exec {bin} ebpf run biolatency --json --duration 2s");
    let out = Command::new("unshare").args(["-m", "sh", "-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["variant"], "tracepoint", "{v}");
    let ops: Vec<&str> =
        v["histograms"].as_array().unwrap().iter().filter_map(|h| h["op"].as_str()).collect();
    assert!(ops.contains(&"write"), "{ops:?}");
    assert!(ops.iter().all(|op| !op.starts_with("op")), "undecoded operations: {ops:?}");
}

/// XDP modes are variants too: in a network namespace of the test's own, lo refuses native XDP
/// (the reason is given) and counts UDP datagrams in generic mode (one every 50 ms for 3 s,
/// while the counter runs from its start-up for 2 s: at least 10 of them fall in).
#[test]
fn xdp_counter_forced_modes() {
    if !root_or_skip("ebpf run xdp-counter") {
        return;
    }
    let ns = format!("hm-cli-xdp-{}", std::process::id());
    if !Command::new("ip").args(["netns", "add", &ns]).status().is_ok_and(|s| s.success()) {
        hypermesh_testkit::skip("cannot create a network namespace (ip from iproute2)");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_hypermesh");
    let in_ns = |script: &str| {
        Command::new("ip").args(["netns", "exec", &ns, "bash", "-c", script]).output().expect("ip netns exec")
    };
    let native = in_ns(&format!(
        "ip link set lo up && {bin} ebpf run xdp-counter --interface lo --variant native --json"
    ));
    let traffic = "(for i in $(seq 60); do echo x > /dev/udp/127.0.0.1/9; sleep 0.05; done) &";
    let generic = in_ns(&format!(
        "{traffic} exec {bin} ebpf run xdp-counter --interface lo --variant xdp_generic --json --duration 2s"
    ));
    let _ = Command::new("ip").args(["netns", "del", &ns]).status();
    let stderr = String::from_utf8_lossy(&native.stderr);
    assert!(!native.status.success(), "lo took native XDP?");
    assert!(stderr.contains("cannot attach as xdp_native here") && stderr.contains("os error"), "{stderr}");
    assert!(generic.status.success(), "{}", String::from_utf8_lossy(&generic.stderr));
    let v: serde_json::Value = serde_json::from_slice(&generic.stdout).expect("JSON");
    assert_eq!(v["variant"], "xdp_generic", "{v}");
    assert!(v["events"].as_u64().is_some_and(|n| n >= 10), "{v}");
}
