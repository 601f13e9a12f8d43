//! `hypermesh` run with less than a root shell has: as the unprivileged user nobody (65534), in
//! a memory cgroup limited to 16 MiB, with /sys read-only or not mounted at all, and all of these
//! at once. The profile must complete (exit 0 without `--strict`), never panic, and name on its
//! section every file it could not read and why (EACCES under `--root` as nobody). The eBPF
//! commands, as nobody, must say which capability is missing and exit non-zero.
//!
//! Each restriction is applied in the child between fork and exec (join the cgroup, private
//! mount namespace, then drop to nobody), and checked by running `cat /proc/self/...` or `id`
//! under the same restrictions, so a test cannot pass with the restriction silently absent.
//! Needs root (to create cgroups, mount namespaces and switch user): skips otherwise.

#![cfg(native_linux)]

use hypermesh_testkit::synthetic::{Machine, Tree};
use hypermesh_testkit::{is_root, skip};
use std::ffi::CString;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The user and group `nobody`.
const NOBODY: u32 = 65534;
/// Memory limit of the restricted cgroup.
const LIMIT: u64 = 16 << 20;

/// The `hypermesh` binary where nobody can run it (the target dir may be private): a hard link,
/// or a copy, in a world-readable temporary directory.
struct Binary {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn binary() -> Binary {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.path().join("hypermesh");
    let built = Path::new(env!("CARGO_BIN_EXE_hypermesh"));
    if std::fs::hard_link(built, &path).is_err() {
        std::fs::copy(built, &path).unwrap();
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    Binary { _dir: dir, path }
}

/// What /sys looks like to the child.
#[derive(Clone, Copy, PartialEq)]
enum Sys {
    Normal,
    /// Bind-remounted read-only in a private mount namespace.
    ReadOnly,
    /// Detached (with everything under it) in a private mount namespace.
    Absent,
}

/// Restrictions applied to a child process.
struct Limits {
    nobody: bool,
    cgroup_procs: Option<CString>,
    sys: Sys,
}

impl Limits {
    fn new() -> Self {
        Limits { nobody: false, cgroup_procs: None, sys: Sys::Normal }
    }

    /// A command for `program` that runs under these limits, with a plain environment.
    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear().env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").current_dir("/");
        let procs = self.cgroup_procs.clone();
        let (nobody, sys) = (self.nobody, self.sys);
        // SAFETY: the closure only makes raw system calls (open, write, unshare, mount, umount2,
        // setgroups, setgid, setuid) on data prepared before the fork; it allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                if let Some(procs) = &procs {
                    join_cgroup(procs)?;
                }
                if sys != Sys::Normal {
                    private_mounts(sys)?;
                }
                if nobody {
                    check(libc::setgroups(0, std::ptr::null()))?;
                    check(libc::setgid(NOBODY))?;
                    check(libc::setuid(NOBODY))?;
                }
                Ok(())
            });
        }
        cmd
    }

    /// Runs `hypermesh ARGS` under these limits.
    fn hypermesh(&self, bin: &Binary, args: &[&str]) -> Output {
        self.command(&bin.path).args(args).output().unwrap()
    }

    /// Standard output of a system tool run under these limits (to prove they apply).
    fn tool(&self, program: &str, args: &[&str]) -> String {
        let out = self.command(Path::new(program)).args(args).output().unwrap();
        assert!(out.status.success(), "{program}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Asserts that every restriction is in force in a child.
    fn assert_in_force(&self, cgroup: Option<&Cgroup>) {
        if self.nobody {
            assert_eq!(self.tool("/usr/bin/id", &["-u"]).trim(), NOBODY.to_string());
        }
        if let Some(cg) = cgroup {
            let mine = self.tool("/bin/cat", &["/proc/self/cgroup"]);
            assert!(mine.lines().any(|l| l.ends_with(&cg.name)), "not in {}: {mine}", cg.name);
        }
        let mounts = self.tool("/bin/cat", &["/proc/self/mountinfo"]);
        let sys =
            mounts.lines().map(|l| l.split(' ').collect::<Vec<_>>()).find(|f| f.get(4) == Some(&"/sys"));
        match self.sys {
            Sys::Normal => {}
            Sys::ReadOnly => {
                let opts = sys.expect("/sys mounted")[5];
                assert!(opts.split(',').any(|o| o == "ro"), "/sys is {opts}");
            }
            Sys::Absent => assert!(sys.is_none(), "/sys still mounted"),
        }
    }
}

fn check(rc: libc::c_int) -> std::io::Result<()> {
    if rc < 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) }
}

/// Moves the calling process into the cgroup whose `cgroup.procs` is given ("0" = myself).
fn join_cgroup(procs: &CString) -> std::io::Result<()> {
    // SAFETY: a valid NUL-terminated path and a 1-byte buffer.
    unsafe {
        let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        check(fd)?;
        let n = libc::write(fd, b"0".as_ptr().cast(), 1);
        libc::close(fd);
        if n != 1 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A private mount namespace where /sys is read-only or gone.
fn private_mounts(sys: Sys) -> std::io::Result<()> {
    let root = c"/";
    let sysfs = c"/sys";
    // SAFETY: static NUL-terminated paths; null fs type and data are allowed for these flags.
    unsafe {
        check(libc::unshare(libc::CLONE_NEWNS))?;
        check(libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ))?;
        match sys {
            Sys::ReadOnly => check(libc::mount(
                std::ptr::null(),
                sysfs.as_ptr(),
                std::ptr::null(),
                libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY,
                std::ptr::null(),
            )),
            Sys::Absent => check(libc::umount2(sysfs.as_ptr(), libc::MNT_DETACH)),
            Sys::Normal => Ok(()),
        }
    }
}

/// A memory cgroup with a hard limit, removed on drop: a cgroup v2 child where the v2 hierarchy
/// has the memory controller, else a child of the v1 memory hierarchy.
struct Cgroup {
    dir: PathBuf,
    name: String,
    v2: bool,
}

impl Cgroup {
    fn create(limit: u64) -> Result<Self, String> {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| e.to_string())?;
        let name = format!("hypermesh-restricted-{}-{:?}", std::process::id(), std::thread::current().id())
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "");
        let mut v1 = None;
        for line in mountinfo.lines() {
            let Some((left, right)) = line.split_once(" - ") else { continue };
            let (Some(point), mut rest) = (left.split(' ').nth(4), right.split(' ')) else { continue };
            let (fstype, opts) = (rest.next(), rest.nth(1).unwrap_or(""));
            let point = PathBuf::from(point);
            if fstype == Some("cgroup2") {
                let controllers =
                    std::fs::read_to_string(point.join("cgroup.controllers")).unwrap_or_default();
                if controllers.split_whitespace().any(|c| c == "memory") {
                    // Best effort: fails harmlessly when already enabled or not allowed.
                    let _ = std::fs::write(point.join("cgroup.subtree_control"), "+memory");
                    let cg = Cgroup { dir: point.join(&name), name, v2: true };
                    std::fs::create_dir(&cg.dir).map_err(|e| format!("{}: {e}", cg.dir.display()))?;
                    cg.write("memory.max", limit)?;
                    if cg.dir.join("memory.swap.max").exists() {
                        cg.write("memory.swap.max", 0)?;
                    }
                    return Ok(cg);
                }
            } else if fstype == Some("cgroup") && opts.split(',').any(|o| o == "memory") {
                v1 = Some(point);
            }
        }
        let point = v1.ok_or("no cgroup v2 with the memory controller and no v1 memory hierarchy")?;
        let cg = Cgroup { dir: point.join(&name), name, v2: false };
        std::fs::create_dir(&cg.dir).map_err(|e| format!("{}: {e}", cg.dir.display()))?;
        cg.write("memory.limit_in_bytes", limit)?;
        if cg.dir.join("memory.memsw.limit_in_bytes").exists() {
            cg.write("memory.memsw.limit_in_bytes", limit)?;
        }
        Ok(cg)
    }

    fn write(&self, file: &str, value: u64) -> Result<(), String> {
        let path = self.dir.join(file);
        std::fs::write(&path, value.to_string()).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn read(&self, file: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.join(file)).ok()
    }

    fn procs(&self) -> CString {
        CString::new(self.dir.join("cgroup.procs").into_os_string().into_encoded_bytes()).unwrap()
    }

    /// Highest memory use charged to the cgroup.
    fn peak(&self) -> Option<u64> {
        self.read(if self.v2 { "memory.peak" } else { "memory.max_usage_in_bytes" })?.trim().parse().ok()
    }

    /// Times the limit was hit (v1 failcnt; v2 the `max` event count) and OOM kills.
    fn pressure(&self) -> String {
        if self.v2 {
            self.read("memory.events").unwrap_or_default().replace('\n', " ")
        } else {
            format!(
                "failcnt {} {}",
                self.read("memory.failcnt").unwrap_or_default().trim(),
                self.read("memory.oom_control").unwrap_or_default().replace('\n', " ")
            )
        }
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// The sections a full profile must account for (GPUs may legitimately be none).
const SECTIONS: [&str; 6] = ["platform", "cpu", "numa", "memory", "storage", "network"];

/// Checks a `profile --json` run: exit 0, no panic, every section present or explained.
fn completed(out: &Output) -> serde_json::Value {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status.code());
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for s in SECTIONS {
        let explained = p["errors"].as_array().unwrap().iter().any(|e| e["section"] == s);
        assert!(!p[s].is_null() || explained, "section {s} missing without a reason: {}", p["errors"]);
    }
    p
}

/// Errors of a profile as `section path: message` lines.
fn errors(p: &serde_json::Value) -> Vec<String> {
    p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}: {}", e["section"], e["path"], e["message"]))
        .collect()
}

fn root_or_skip(what: &str) -> bool {
    if !is_root() {
        skip(&format!("{what} needs root (switch user, create cgroups, mount namespaces)"));
    }
    is_root()
}

#[test]
fn profile_as_nobody_completes() {
    if !root_or_skip("profile as nobody") {
        return;
    }
    let bin = binary();
    let limits = Limits { nobody: true, ..Limits::new() };
    limits.assert_in_force(None);
    let p = completed(&limits.hypermesh(&bin, &["profile", "--json"]));
    for s in ["platform", "cpu", "memory"] {
        assert!(!p[s].is_null(), "{s} needs no privilege: {:?}", errors(&p));
    }
    eprintln!("as nobody: {} error(s) {:?}", errors(&p).len(), errors(&p));
}

#[test]
fn files_nobody_may_not_read_are_reported_on_their_section() {
    if !root_or_skip("EACCES as nobody") {
        return;
    }
    let bin = binary();
    let dir = tempfile::tempdir().unwrap();
    let t = Tree::new(dir.path()).unwrap();
    Machine::x86(1, 2, 2).write(&t).unwrap();
    t.file("/proc/meminfo", "MemTotal: 1024 kB\nMemAvailable: 512 kB\n").unwrap();
    t.file("/etc/os-release", "ID=debian\n").unwrap();
    t.file("/proc/1/mountinfo", "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n").unwrap();
    let disk = "/sys/devices/pci0000:00/0000:00:05.0/virtio2/block/vda";
    t.file(&format!("{disk}/size"), "2097152\n").unwrap();
    t.link("/sys/block/vda", "../devices/pci0000:00/0000:00:05.0/virtio2/block/vda").unwrap();
    t.dir("/sys/class/net").unwrap();
    let locked = [
        ("/proc/meminfo", "memory"),
        ("/sys/devices/system/node", "numa"),
        ("/proc/1/mountinfo", "storage"),
        ("/sys/class/net", "network"),
    ];
    // Everything readable by all (the tempdir itself is 0700), then the locked ones made 0.
    for entry in walk(dir.path()) {
        let mode = if entry.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    for (path, _) in locked {
        let full = dir.path().join(path.trim_start_matches('/'));
        std::fs::set_permissions(full, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let limits = Limits { nobody: true, ..Limits::new() };
    let root = dir.path().to_str().unwrap();
    let p = completed(&limits.hypermesh(&bin, &["--root", root, "profile", "--json"]));
    let errs = errors(&p);
    for (path, section) in locked {
        let hit = p["errors"].as_array().unwrap().iter().any(|e| {
            e["section"] == section
                && e["path"].as_str().is_some_and(|p| p.starts_with(path))
                && e["message"].as_str().is_some_and(|m| m.contains("ermission denied"))
        });
        assert!(hit, "{path} (mode 000) not reported as denied on {section}: {errs:#?}");
    }
    assert!(!p["cpu"].is_null() && !p["platform"].is_null(), "{errs:#?}");
}

/// Every path under `dir` (links not followed), `dir` included.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        let p = out[i].clone();
        if p.symlink_metadata().unwrap().is_dir() {
            out.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        }
        i += 1;
    }
    out.retain(|p| !p.symlink_metadata().unwrap().is_symlink());
    out
}

#[test]
fn profile_in_a_16_mib_memory_cgroup_completes() {
    if !root_or_skip("memory cgroup") {
        return;
    }
    let cg = match Cgroup::create(LIMIT) {
        Ok(cg) => cg,
        Err(why) => return skip(&format!("cannot create a memory cgroup: {why}")),
    };
    let bin = binary();
    let limits = Limits { cgroup_procs: Some(cg.procs()), ..Limits::new() };
    limits.assert_in_force(Some(&cg));
    let p = completed(&limits.hypermesh(&bin, &["profile", "--json"]));
    assert!(p["errors"].as_array().unwrap().is_empty(), "{:?}", errors(&p));
    let peak = cg.peak().expect("the cgroup reports its peak");
    assert!(peak > 0 && peak <= LIMIT, "peak {peak}");
    eprintln!(
        "memory cgroup ({}): limit {} KiB, peak {} KiB, {}",
        if cg.v2 { "v2" } else { "v1" },
        LIMIT >> 10,
        peak >> 10,
        cg.pressure()
    );
}

#[test]
fn profile_with_sys_read_only_completes() {
    if !root_or_skip("read-only /sys") {
        return;
    }
    let bin = binary();
    let limits = Limits { sys: Sys::ReadOnly, ..Limits::new() };
    limits.assert_in_force(None);
    let p = completed(&limits.hypermesh(&bin, &["profile", "--json"]));
    for s in SECTIONS {
        assert!(!p[s].is_null(), "{s} only reads /sys: {:?}", errors(&p));
    }
}

#[test]
fn profile_without_sys_names_what_is_missing_per_section() {
    if !root_or_skip("no /sys") {
        return;
    }
    let bin = binary();
    let limits = Limits { sys: Sys::Absent, ..Limits::new() };
    limits.assert_in_force(None);
    let p = completed(&limits.hypermesh(&bin, &["profile", "--json"]));
    let errs = errors(&p);
    assert!(!p["memory"].is_null() && !p["platform"].is_null(), "/proc suffices: {errs:#?}");
    for s in ["cpu", "numa", "storage", "network"] {
        let named = p["errors"].as_array().unwrap().iter().any(|e| {
            e["section"] == s
                && (e["path"].as_str().is_some_and(|p| p.starts_with("/sys/"))
                    || e["message"].as_str().is_some_and(|m| m.contains("sysfs")))
        });
        assert!(named, "{s}: no error names the missing /sys file or sysfs: {errs:#?}");
    }
    let text = limits.hypermesh(&bin, &["profile"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("Could not read:"));
    let strict = limits.hypermesh(&bin, &["profile", "--strict"]);
    assert!(!strict.status.success(), "--strict must fail with errors: {errs:#?}");
}

#[test]
fn profile_as_nobody_in_a_memory_cgroup_with_sys_read_only_completes() {
    if !root_or_skip("all restrictions") {
        return;
    }
    let cg = match Cgroup::create(LIMIT) {
        Ok(cg) => cg,
        Err(why) => return skip(&format!("cannot create a memory cgroup: {why}")),
    };
    let bin = binary();
    let limits = Limits { nobody: true, cgroup_procs: Some(cg.procs()), sys: Sys::ReadOnly };
    limits.assert_in_force(Some(&cg));
    let p = completed(&limits.hypermesh(&bin, &["profile", "--json"]));
    for s in ["platform", "cpu", "memory"] {
        assert!(!p[s].is_null(), "{s}: {:?}", errors(&p));
    }
    assert!(cg.peak().is_some_and(|peak| peak <= LIMIT));
}

/// Asserts a run failed, said what capability is missing, and did not panic.
fn explains_missing_capability(out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "exit 0 without capabilities: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for needle in ["CAP_BPF", "CAP_PERFMON", "root"] {
        assert!(stderr.contains(needle), "stderr does not mention {needle}: {stderr}");
    }
}

#[test]
fn ebpf_probe_as_nobody_explains_the_missing_capability() {
    if !root_or_skip("ebpf probe as nobody") {
        return;
    }
    let bin = binary();
    let limits = Limits { nobody: true, ..Limits::new() };
    let out = limits.hypermesh(&bin, &["ebpf", "probe", "--quick"]);
    explains_missing_capability(&out);
    // The report is still printed: what could be read without privilege.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("CAP_BPF(missing)"), "{text}");
}

#[test]
fn ebpf_run_runqlat_as_nobody_explains_the_missing_capability() {
    if !root_or_skip("ebpf run as nobody") {
        return;
    }
    let bin = binary();
    let limits = Limits { nobody: true, ..Limits::new() };
    explains_missing_capability(&limits.hypermesh(&bin, &["ebpf", "run", "runqlat", "--duration", "1s"]));
}
