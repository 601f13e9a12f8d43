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
