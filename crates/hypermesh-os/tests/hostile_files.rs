//! Hostile files in an otherwise sane tree: every key file of every section replaced in turn by
//! an empty file, a line cut in the middle, binary noise, a 100 MB (sparse) file, a FIFO that
//! would block a reader forever, a directory, a symbolic link loop, and an absolute link that
//! points out of the root. The profile must finish quickly, never panic, never read outside
//! the root, and report each unreadable file on its own section with its path.
//! (Unreadable files, EACCES, need a non-root reader: see `crates/hypermesh/tests/cli_restricted.rs`.)

#![cfg(native_linux)]

use hypermesh_os::linux::LinuxBackend;
use hypermesh_os::{FsRoot, HostProfile, Section, detect};
use hypermesh_testkit::synthetic::{Machine, Tree};
use std::path::Path;
use std::time::{Duration, Instant};

/// A key file of each section, and the section it belongs to.
const TARGETS: [(&str, Section); 8] = [
    ("/etc/os-release", Section::Platform),
    ("/proc/cpuinfo", Section::Cpu),
    ("/sys/devices/system/cpu/online", Section::Cpu),
    ("/sys/devices/system/node/node0/cpulist", Section::Numa),
    ("/proc/meminfo", Section::Memory),
    ("/sys/block/vda/size", Section::Storage),
    ("/proc/1/mountinfo", Section::Storage),
    ("/sys/class/net/eth0/uevent", Section::Network),
];

/// Ways a file can be hostile.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Empty,
    Truncated,
    Binary,
    Huge,
    Fifo,
    Directory,
    Loop,
    Escape,
}

impl Kind {
    const ALL: [Kind; 8] = [
        Kind::Empty,
        Kind::Truncated,
        Kind::Binary,
        Kind::Huge,
        Kind::Fifo,
        Kind::Directory,
        Kind::Loop,
        Kind::Escape,
    ];

    /// Kinds that exist but that no reader can get content from: each must show up as an error
    /// naming the file. (An escaping link dangles inside the root: it reads as a missing file,
    /// which optional files may legitimately be; that it is never followed is tested apart.)
    fn unreadable(self) -> bool {
        !matches!(self, Kind::Empty | Kind::Truncated | Kind::Binary | Kind::Escape)
    }
}

/// A small sane machine: one disk, one interface, os-release and mountinfo.
fn sane(t: &Tree) {
    Machine::x86(1, 2, 2).write(t).unwrap();
    t.file("/etc/os-release", "NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID=\"12\"\n").unwrap();
    t.file("/proc/stat", "cpu  1 2 3 4 5 6 7 0 0 0\nbtime 1700000000\n").unwrap();
    t.file("/proc/1/mountinfo", "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n").unwrap();
    let dev = "/sys/devices/pci0000:00/0000:00:05.0/virtio2/block/vda";
    t.file(&format!("{dev}/size"), "2097152\n").unwrap();
    t.file(&format!("{dev}/queue/rotational"), "0\n").unwrap();
    t.link("/sys/block/vda", "../devices/pci0000:00/0000:00:05.0/virtio2/block/vda").unwrap();
    let nic = "/sys/devices/pci0000:00/0000:00:03.0/virtio0/net/eth0";
    t.file(&format!("{nic}/uevent"), "INTERFACE=eth0\nIFINDEX=2\n").unwrap();
    t.file(&format!("{nic}/mtu"), "1500\n").unwrap();
    t.file(&format!("{nic}/operstate"), "up\n").unwrap();
    t.link("/sys/class/net/eth0", "../../devices/pci0000:00/0000:00:03.0/virtio0/net/eth0").unwrap();
}

/// Replaces the file at `path` (links resolved inside the root) by a hostile one. `outside` is
/// a directory beyond the root that holds a good copy, the target of the escaping link.
fn spoil(root: &Path, path: &str, kind: Kind, outside: &Path) {
    let real = std::fs::canonicalize(root.join(path.trim_start_matches('/'))).unwrap();
    let good = std::fs::read(&real).unwrap();
    std::fs::remove_file(&real).unwrap();
    match kind {
        Kind::Empty => std::fs::write(&real, "").unwrap(),
        Kind::Truncated => std::fs::write(&real, &good[..good.len() / 2]).unwrap(),
        Kind::Binary => {
            std::fs::write(&real, (0..4096u32).map(|i| (i * 131 % 256) as u8).collect::<Vec<_>>()).unwrap()
        }
        Kind::Huge => std::fs::File::create(&real).unwrap().set_len(100 << 20).unwrap(),
        Kind::Fifo => nix_mkfifo(&real),
        Kind::Directory => std::fs::create_dir(&real).unwrap(),
        Kind::Loop => std::os::unix::fs::symlink(real.file_name().unwrap(), &real).unwrap(),
        Kind::Escape => {
            let copy = outside.join("good");
            std::fs::write(&copy, good).unwrap();
            std::os::unix::fs::symlink(&copy, &real).unwrap();
        }
    }
}

fn nix_mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a node.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

fn run(path: &str, kind: Kind) -> (HostProfile, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let t = Tree::new(dir.path()).unwrap();
    sane(&t);
    spoil(dir.path(), path, kind, outside.path());
    let start = Instant::now();
    let p = detect(&LinuxBackend::new(FsRoot::new(dir.path()).unwrap()), &Section::ALL[..6]);
    (p, start.elapsed())
}

#[test]
fn the_sane_tree_has_no_errors() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tree::new(dir.path()).unwrap();
    sane(&t);
    let p = detect(&LinuxBackend::new(FsRoot::new(dir.path()).unwrap()), &Section::ALL[..6]);
    assert!(p.errors.is_empty(), "{:#?}", p.errors);
    assert_eq!(p.storage.unwrap().block_devices.len(), 1);
    assert_eq!(p.network.unwrap().interfaces.len(), 1);
}

#[test]
fn every_hostile_file_is_bounded_and_reported_on_its_section() {
    let mut slowest = Duration::ZERO;
    let mut missed = Vec::new();
    for (path, section) in TARGETS {
        for kind in Kind::ALL {
            let (p, took) = run(path, kind);
            slowest = slowest.max(took);
            assert!(took < Duration::from_secs(10), "{path} as {kind:?}: {took:?}");
            let on_section = p.errors.iter().any(|e| e.section == section && e.path.as_deref() == Some(path));
            let elsewhere = p.errors.iter().find(|e| e.path.as_deref() == Some(path) && e.section != section);
            assert!(elsewhere.is_none(), "{path} as {kind:?} reported on the wrong section: {elsewhere:?}");
            if kind.unreadable() && !on_section {
                missed.push(format!("{path} as {kind:?}: {:?}", p.errors));
            }
        }
    }
    eprintln!("hostile files: slowest profile {slowest:?}");
    assert!(missed.is_empty(), "unreadable files not reported:\n{}", missed.join("\n"));
}

#[test]
fn an_absolute_link_out_of_the_root_is_never_followed() {
    let (p, _) = run("/proc/meminfo", Kind::Escape);
    assert!(p.memory.is_none(), "memory read through a link out of the root: {:?}", p.memory);
}
