//! `hypermesh capture` as a user runs it: a capture of this host replays clean under `--root`
//! (profile `--strict`, the same static values, usage finds the cgroup), the archive is written
//! atomically (never through a symbolic link, never left half-written on ENOSPC), and DIMMs
//! that only root may read are reported as such.

#![cfg(native_linux)]

mod common;

use common::capture_host;
use hypermesh_testkit::synthetic::{Machine, Tree};
use hypermesh_testkit::{is_root, skip};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

fn hypermesh(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hypermesh")).args(args).env_remove("HYPERMESH_ROOT").output().unwrap()
}

fn json(args: &[&str]) -> Value {
    let out = hypermesh(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_capture_of_this_host_replays_strict_with_the_same_static_values() {
    let dir = tempfile::tempdir().unwrap();
    let root = capture_host(dir.path());
    let root = root.to_str().unwrap();
    let strict = hypermesh(&["--root", root, "profile", "--strict"]);
    assert!(
        strict.status.success(),
        "profile --strict over the capture: {}{}",
        String::from_utf8_lossy(&strict.stdout),
        String::from_utf8_lossy(&strict.stderr)
    );
    let live = json(&["profile", "--json"]);
    let replay = json(&["--root", root, "profile", "--json"]);
    assert_eq!(replay["errors"], Value::Array(vec![]), "{}", replay["errors"]);
    let static_values = [
        "/platform/distro",
        "/platform/kernel",
        "/platform/arch",
        "/platform/hostname",
        "/cpu/model",
        "/cpu/packages",
        "/cpu/cores",
        "/cpu/logical_cpus",
        "/cpu/online",
        "/cpu/flags",
        "/cpu/caches",
        "/cpu/kinds",
        "/cpu/allowed",
        "/cpu/allowed_source",
        "/numa/allowed_nodes",
        "/numa/allowed_source",
        "/memory/total_bytes",
        "/memory/hugepages",
        "/memory/dimms",
        "/memory/side_caches",
        "/memory/pmem",
        "/memory/dax",
        "/gpus",
    ];
    hypermesh_testkit::assert_same_virtualization(&live, &replay);
    for pointer in static_values {
        assert_eq!(live.pointer(pointer), replay.pointer(pointer), "{pointer}");
        assert!(live.pointer(pointer).is_some(), "{pointer} missing from the live profile");
    }
    let names = |p: &Value, list: &str, keys: &[&str]| -> Vec<Vec<Value>> {
        p.pointer(list)
            .and_then(Value::as_array)
            .unwrap()
            .iter()
            .map(|item| keys.iter().map(|k| item[*k].clone()).collect())
            .collect()
    };
    assert_eq!(
        names(&live, "/numa/nodes", &["id", "cpus", "memory_total_bytes", "distances"]),
        names(&replay, "/numa/nodes", &["id", "cpus", "memory_total_bytes", "distances"])
    );
    assert_eq!(
        names(&live, "/storage/block_devices", &["name", "kind", "size_bytes", "model"]),
        names(&replay, "/storage/block_devices", &["name", "kind", "size_bytes", "model"])
    );
    assert_eq!(
        names(&live, "/network/interfaces", &["name", "mac", "mtu", "driver"]),
        names(&replay, "/network/interfaces", &["name", "mac", "mtu", "driver"])
    );
}

#[test]
fn usage_finds_the_cgroup_of_a_capture() {
    let dir = tempfile::tempdir().unwrap();
    let root = capture_host(dir.path());
    let live = json(&["usage", "--json", "--interval", "10ms"]);
    let replay = json(&["--root", root.to_str().unwrap(), "usage", "--json", "--interval", "10ms"]);
    if live["cgroup"]["version"].is_null() {
        skip("this host's process is in no mounted cgroup hierarchy");
        return;
    }
    let errors = replay["errors"].as_array().unwrap();
    assert!(!errors.iter().any(|e| e["source"] == "cgroup"), "{errors:?}");
    for key in ["version", "path", "cpuset", "cpu_quota_us", "memory_limit_bytes"] {
        assert_eq!(live["cgroup"][key], replay["cgroup"][key], "cgroup.{key}");
    }
    assert!(replay["memory"]["used_bytes"].as_u64().is_some());
}

#[test]
fn a_symbolic_link_at_the_destination_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("precious");
    std::fs::write(&target, "keep me").unwrap();
    let link = dir.path().join("out.tar.gz");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = hypermesh(&["capture", link.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    let mut left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    left.sort();
    assert_eq!(left, ["out.tar.gz", "precious"], "no temporary file left");
    // A plain file is replaced whole.
    std::fs::remove_file(&link).unwrap();
    std::fs::write(&link, "old").unwrap();
    assert!(hypermesh(&["capture", link.to_str().unwrap()]).status.success());
    assert_eq!(&std::fs::read(&link).unwrap()[..2], &[0x1f, 0x8b], "a gzip archive");
}

/// A tmpfs of `size` mounted on a fresh temporary directory, unmounted on drop.
struct TinyTmpfs(tempfile::TempDir);

impl TinyTmpfs {
    fn mount(size: &str) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "hypermesh-test",
                dir.path().to_str().unwrap(),
            ])
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(TinyTmpfs(dir))
    }
}

impl Drop for TinyTmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

#[test]
fn no_space_left_is_an_error_and_leaves_no_partial_archive() {
    if !is_root() {
        skip("mounting a tiny tmpfs needs root");
        return;
    }
    let fs = match TinyTmpfs::mount("8k") {
        Ok(fs) => fs,
        Err(e) => {
            skip(&format!("cannot mount a tmpfs here: {e}"));
            return;
        }
    };
    let dest = fs.0.path().join("host.tar.gz");
    std::fs::write(&dest, "previous").unwrap();
    let out = hypermesh(&["capture", dest.to_str().unwrap()]);
    assert!(!out.status.success(), "a capture larger than 8 KiB fit: {:?}", out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "previous", "the old file is untouched");
    let left: Vec<_> = std::fs::read_dir(fs.0.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["host.tar.gz"], "no temporary file left");
    std::fs::remove_file(&dest).unwrap();
    assert!(!hypermesh(&["capture", dest.to_str().unwrap()]).status.success());
    assert_eq!(std::fs::read_dir(fs.0.path()).unwrap().count(), 0, "nothing under the destination's name");
}

#[test]
fn dimms_readable_by_root_only_are_an_eacces_error_for_others() {
    if !is_root() {
        skip("switching to the user nobody needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tree = Tree::new(dir.path().join("t")).unwrap();
    Machine::x86(1, 2, 1).write(&tree).unwrap();
    let raw = hypermesh_os::linux::smbios::blob::memory_device(0x28, 1, &[(0x0C, &[0, 4])], &[]);
    tree.file("/sys/firmware/dmi/entries/17-0/raw", &raw).unwrap();
    let raw_path = tree.path().join("sys/firmware/dmi/entries/17-0/raw");
    std::fs::set_permissions(&raw_path, std::fs::Permissions::from_mode(0o400)).unwrap();
    // Everything else readable by all, as in sysfs; the binary where nobody can run it.
    Command::new("chmod").args(["-R", "a+rX"]).arg(dir.path()).status().unwrap();
    std::fs::set_permissions(&raw_path, std::fs::Permissions::from_mode(0o400)).unwrap();
    let bin = dir.path().join("hypermesh");
    std::fs::copy(env!("CARGO_BIN_EXE_hypermesh"), &bin).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = |as_nobody: bool| -> Value {
        let mut cmd = Command::new(&bin);
        cmd.args(["--root", tree.path().to_str().unwrap(), "profile", "--json", "--section", "memory"]);
        cmd.env_remove("HYPERMESH_ROOT").current_dir("/");
        if as_nobody {
            // SAFETY: only raw system calls between fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    for rc in [libc::setgroups(0, std::ptr::null()), libc::setgid(65534), libc::setuid(65534)]
                    {
                        if rc != 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                    }
                    Ok(())
                });
            }
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let root = run(false);
    assert_eq!(root["memory"]["dimms"][0]["size_bytes"], 1u64 << 30);
    let nobody = run(true);
    assert!(nobody["memory"]["dimms"].is_null());
    assert_eq!(nobody["memory"]["total_bytes"], root["memory"]["total_bytes"], "the section still reports");
    let errors = nobody["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["path"], "/sys/firmware/dmi/entries/17-0/raw");
    assert!(errors[0]["message"].as_str().unwrap().contains("os error 13"), "{errors:?}");
}
