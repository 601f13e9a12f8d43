//! Helpers shared by the tests over hand-made trees.
#![allow(dead_code)] // each test binary uses a part of it

use hypermesh_os::linux::LinuxBackend;
use hypermesh_os::{FsRoot, HostProfile, Section, detect};
use hypermesh_testkit::synthetic::Tree;

/// An empty tree in a temporary directory (removed when the first value drops).
pub fn tree() -> (tempfile::TempDir, Tree) {
    let dir = tempfile::tempdir().unwrap();
    let tree = Tree::new(dir.path()).unwrap();
    (dir, tree)
}

/// The CPU, NUMA and memory sections of the tree's profile.
pub fn profile(tree: &Tree) -> HostProfile {
    detect(
        &LinuxBackend::new(FsRoot::new(tree.path()).unwrap()),
        &[Section::Cpu, Section::Numa, Section::Memory],
    )
}
