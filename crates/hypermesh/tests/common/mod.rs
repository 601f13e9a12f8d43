//! Helpers shared by the CLI's integration tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Captures this host with `hypermesh capture` into `dir/host.tar.gz` and unpacks it into
/// `dir/root`, to be read with `--root`.
pub fn capture_host(dir: &Path) -> PathBuf {
    let archive = dir.join("host.tar.gz");
    let out = Command::new(env!("CARGO_BIN_EXE_hypermesh"))
        .arg("capture")
        .arg(&archive)
        .env_remove("HYPERMESH_ROOT")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let root = dir.join("root");
    std::fs::create_dir(&root).unwrap();
    let status = Command::new("tar").arg("xzf").arg(&archive).arg("-C").arg(&root).status().unwrap();
    assert!(status.success());
    root
}
