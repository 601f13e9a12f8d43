//! Mounted filesystems: mountinfo, less pseudo filesystems and duplicate views, plus statvfs
//! figures taken in a worker thread under a per-mount deadline.
//!
//! Choices (documented for users):
//! - **Source**: `/proc/self/mountinfo` on the live host. Under an alternate root
//!   `/proc/1/mountinfo` comes first (the host init's view, which is what a container reading
//!   the host at `/host` wants, since `self` there is the reader), then `/proc/self/mountinfo`.
//! - **Pseudo filesystems** ([`PSEUDO_FS_TYPES`]: proc, sysfs, cgroup, devpts, devtmpfs, debugfs,
//!   ...) are left out by default, like `df` and node_exporter: they hold no user data and have
//!   no capacity. `tmpfs`, `overlay` and `squashfs` are kept: they hold data and `df` lists them.
//! - **Over-mounts**: of several mounts on one mount point only the last (visible) one is kept.
//! - **Bind mounts**: mounts of the same device (`major:minor`) and the same root inside it are
//!   one filesystem; the one with the shortest mount point (first on ties) is kept.
//! - **statvfs**: on the live host, for every mount kept. Under an alternate root the mount
//!   point is looked for inside that root (`ROOT/<mount point>`) and measured only when it is
//!   that very filesystem (its `st_dev` equals the mount's `major:minor`), as in a container
//!   that bind-mounts the host's `/` at `/host`; otherwise the figures stay `null`, because
//!   statvfs would describe this machine's directories, not the captured host's.
//! - **Timeout**: each mount gets [`DEFAULT_TIMEOUT`]; a mount that does not answer (a hung
//!   NFS server) is reported as a problem for that mount and the others are still measured.
//!   The stuck thread is left behind (a syscall in D state cannot be cancelled) and a fresh
//!   worker takes over the remaining mounts.

use crate::error::{Error, Result, copy_io};
use crate::linux::mountinfo::{self, Mount};
use crate::model::Filesystem;
use crate::profile::Problems;
use crate::root::FsRoot;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

/// Filesystem types that describe kernel state rather than stored data.
pub const PSEUDO_FS_TYPES: &[&str] = &[
    "autofs",
    "binfmt_misc",
    "bpf",
    "cgroup",
    "cgroup2",
    "configfs",
    "debugfs",
    "devpts",
    "devtmpfs",
    "efivarfs",
    "fuse.gvfsd-fuse",
    "fuse.lxcfs",
    "fuse.portal",
    "fusectl",
    "hugetlbfs",
    "mqueue",
    "nsfs",
    "proc",
    "pstore",
    "rootfs",
    "rpc_pipefs",
    "securityfs",
    "selinuxfs",
    "sysfs",
    "tracefs",
];

/// How long one mount may take to answer statvfs.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// Space and inode figures of one filesystem, in bytes and inodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Capacity.
    pub total: u64,
    /// Free, including blocks reserved for root.
    pub free: u64,
    /// Free for unprivileged users.
    pub available: u64,
    /// Inodes in total.
    pub inodes_total: u64,
    /// Inodes free.
    pub inodes_free: u64,
}

/// A function that measures the filesystem mounted at a path (statvfs, or a stand-in in tests).
pub type StatFn = dyn Fn(&Path) -> io::Result<Usage> + Send + Sync;

/// How filesystems are listed.
#[derive(Clone)]
pub struct Options {
    /// Keep pseudo filesystems ([`PSEUDO_FS_TYPES`]).
    pub include_pseudo: bool,
    /// Deadline of each mount's statvfs.
    pub timeout: Duration,
    /// The measuring function.
    pub stat: Arc<StatFn>,
}

impl Default for Options {
    fn default() -> Self {
        Options { include_pseudo: false, timeout: DEFAULT_TIMEOUT, stat: Arc::new(statvfs) }
    }
}

/// Lists real filesystems with their usage, using the default [`Options`].
pub fn detect(root: &FsRoot, problems: &mut Problems) -> Result<Vec<Filesystem>> {
    detect_with(root, &Options::default(), problems)
}

/// Lists filesystems as `options` say.
pub fn detect_with(root: &FsRoot, options: &Options, problems: &mut Problems) -> Result<Vec<Filesystem>> {
    let (path, text) = read_mountinfo(root)?;
    let (mounts, bad) = mountinfo::parse(&text);
    problems.extend(bad.into_iter().map(|m| Error::parse(path, m)));
    let mounts = select(mounts, options.include_pseudo);
    let jobs: Vec<Job> = mounts
        .iter()
        .map(|m| Job {
            path: root.host_path(&m.mount_point),
            expect_dev: if root.is_host() { None } else { parse_dev(&m.major_minor) },
        })
        .collect();
    let outcomes = measure(jobs, options.timeout, options.stat.clone());
    Ok(mounts
        .into_iter()
        .zip(outcomes)
        .map(|(m, outcome)| {
            let usage = match outcome {
                Outcome::Usage(u) => Some(u),
                Outcome::Unreachable => None,
                Outcome::Failed(e) => {
                    problems.push(Error::io(&m.mount_point, e));
                    None
                }
                Outcome::TimedOut => {
                    problems.push(Error::io(
                        &m.mount_point,
                        io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!(
                                "statvfs gave no answer within {:?} (hung network mount?)",
                                options.timeout
                            ),
                        ),
                    ));
                    None
                }
            };
            filesystem(m, usage)
        })
        .collect())
}

fn read_mountinfo(root: &FsRoot) -> Result<(&'static str, String)> {
    let candidates: &[&'static str] = if root.is_host() {
        &["/proc/self/mountinfo"]
    } else {
        &["/proc/1/mountinfo", "/proc/self/mountinfo"]
    };
    let mut first_err = None;
    for path in candidates {
        match root.read_string(path) {
            Ok(text) => return Ok((path, text)),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or_else(|| Error::Unavailable("no mountinfo".into())))
}

/// Drops pseudo filesystems (unless asked for), over-mounted mounts and bind-mount duplicates,
/// keeping mountinfo order. Like df, a device mounted more than once (bind mounts, also of a
/// subdirectory such as `ip netns`'s `/run/netns`) is one filesystem, listed at its shortest
/// mount point; btrfs subvolumes (one device, different roots) stay apart, as df shows them.
pub fn select(mounts: Vec<Mount>, include_pseudo: bool) -> Vec<Mount> {
    let mut last_on_point: HashMap<&str, usize> = HashMap::new();
    for (i, m) in mounts.iter().enumerate() {
        last_on_point.insert(m.mount_point.as_str(), i);
    }
    let visible: Vec<bool> = mounts
        .iter()
        .enumerate()
        .map(|(i, m)| last_on_point.get(m.mount_point.as_str()) == Some(&i))
        .collect();
    let mut kept: Vec<Mount> = Vec::new();
    let mut by_source: HashMap<(String, String), usize> = HashMap::new();
    let key = |m: &Mount| {
        let root = if m.fs_type == "btrfs" { m.root.clone() } else { String::new() };
        (m.major_minor.clone(), root)
    };
    for (m, visible) in mounts.into_iter().zip(visible) {
        if !visible || (!include_pseudo && PSEUDO_FS_TYPES.contains(&m.fs_type.as_str())) {
            continue;
        }
        match by_source.get(&key(&m)) {
            Some(&at) => {
                if m.mount_point.len() < kept[at].mount_point.len() {
                    kept[at] = m;
                }
            }
            None => {
                by_source.insert(key(&m), kept.len());
                kept.push(m);
            }
        }
    }
    kept
}

fn filesystem(m: Mount, usage: Option<Usage>) -> Filesystem {
    let mut options: Vec<String> =
        m.options.split(',').filter(|o| !o.is_empty()).map(str::to_string).collect();
    for o in m.super_options.split(',').filter(|o| !o.is_empty()) {
        if !options.iter().any(|x| x == o) {
            options.push(o.to_string());
        }
    }
    Filesystem {
        device: m.source,
        major_minor: m.major_minor,
        mount_point: m.mount_point,
        fs_type: m.fs_type,
        options,
        total_bytes: usage.map(|u| u.total),
        free_bytes: usage.map(|u| u.free),
        available_bytes: usage.map(|u| u.available),
        inodes_total: usage.map(|u| u.inodes_total),
        inodes_free: usage.map(|u| u.inodes_free),
        disk_kind: None,
    }
}

fn parse_dev(mm: &str) -> Option<(u32, u32)> {
    let (a, b) = mm.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// statvfs of a path, in bytes (`f_frsize` units, as `df` counts).
pub fn statvfs(path: &Path) -> io::Result<Usage> {
    let s = rustix::fs::statvfs(path)?;
    let unit = s.f_frsize;
    Ok(Usage {
        total: s.f_blocks.saturating_mul(unit),
        free: s.f_bfree.saturating_mul(unit),
        available: s.f_bavail.saturating_mul(unit),
        inodes_total: s.f_files,
        inodes_free: s.f_ffree,
    })
}

/// One mount to measure.
struct Job {
    path: PathBuf,
    /// Under an alternate root: the device the path must be on to be that mount.
    expect_dev: Option<(u32, u32)>,
}

/// What measuring one mount gave.
enum Outcome {
    Usage(Usage),
    /// Under an alternate root, the mount point is not that filesystem here.
    Unreachable,
    Failed(io::Error),
    TimedOut,
}

struct Work {
    jobs: Vec<Job>,
    next: AtomicUsize,
    stat: Arc<StatFn>,
}

/// Measures every job in worker threads that claim jobs in order. When no answer comes within
/// `timeout`, the jobs claimed but unanswered are the hung ones: they time out and a new
/// worker takes over the rest.
fn measure(jobs: Vec<Job>, timeout: Duration, stat: Arc<StatFn>) -> Vec<Outcome> {
    let n = jobs.len();
    let mut results: Vec<Option<Outcome>> = (0..n).map(|_| None).collect();
    if n == 0 {
        return Vec::new();
    }
    let work = Arc::new(Work { jobs, next: AtomicUsize::new(0), stat });
    let (tx, rx) = mpsc::channel();
    let mut done = 0;
    let start = || spawn_worker(work.clone(), tx.clone());
    if let Err(e) = start() {
        return fail_all(n, e);
    }
    while done < n {
        match rx.recv_timeout(timeout) {
            Ok((i, outcome)) => {
                if results[i].is_none() {
                    results[i] = Some(outcome);
                    done += 1;
                }
            }
            Err(_) => {
                let claimed = work.next.load(Ordering::SeqCst).min(n);
                for r in results[..claimed].iter_mut().filter(|r| r.is_none()) {
                    *r = Some(Outcome::TimedOut);
                    done += 1;
                }
                if done < n
                    && let Err(e) = start()
                {
                    for r in results.iter_mut().filter(|r| r.is_none()) {
                        *r = Some(Outcome::Failed(copy_io(&e)));
                    }
                    break;
                }
            }
        }
    }
    results.into_iter().map(|r| r.unwrap_or(Outcome::TimedOut)).collect()
}

fn fail_all(n: usize, e: io::Error) -> Vec<Outcome> {
    (0..n).map(|_| Outcome::Failed(copy_io(&e))).collect()
}

fn spawn_worker(work: Arc<Work>, tx: mpsc::Sender<(usize, Outcome)>) -> io::Result<()> {
    std::thread::Builder::new().name("hypermesh-statvfs".into()).spawn(move || {
        loop {
            let i = work.next.fetch_add(1, Ordering::SeqCst);
            let Some(job) = work.jobs.get(i) else { return };
            if tx.send((i, probe(job, &*work.stat))).is_err() {
                return;
            }
        }
    })?;
    Ok(())
}

fn probe(job: &Job, stat: &StatFn) -> Outcome {
    if let Some(dev) = job.expect_dev
        && !is_mount_root_of(&job.path, dev)
    {
        return Outcome::Unreachable;
    }
    match stat(&job.path) {
        Ok(u) => Outcome::Usage(u),
        Err(e) => Outcome::Failed(e),
    }
}

/// True when `path` is the root of a mount (statx `MOUNT_ROOT`) of device `major:minor`: the
/// proof that a mount point under an alternate root is the captured host's filesystem and not
/// a plain directory of this machine. Kernels without `MOUNT_ROOT` (before 5.8) get `false`.
fn is_mount_root_of(path: &Path, (major, minor): (u32, u32)) -> bool {
    use rustix::fs::{AtFlags, StatxAttributes, StatxFlags};
    match rustix::fs::statx(rustix::fs::CWD, path, AtFlags::NO_AUTOMOUNT, StatxFlags::BASIC_STATS) {
        Ok(st) => {
            st.stx_attributes_mask.contains(StatxAttributes::MOUNT_ROOT)
                && st.stx_attributes.contains(StatxAttributes::MOUNT_ROOT)
                && st.stx_dev_major == major
                && st.stx_dev_minor == minor
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    const TEXT: &str = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=1k
30 25 0:27 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=2k
40 27 254:0 / /srv/bind/deeper rw - ext4 /dev/vda rw
41 27 254:0 /home /home rw - ext4 /dev/vda rw
44 27 0:50 /@ /data rw - btrfs /dev/vdb rw
45 27 0:50 /@home /data/home rw - btrfs /dev/vdb rw
42 27 0:42 / /mnt/nfs rw - nfs4 srv:/x rw
43 27 0:42 / /mnt/n rw - nfs4 srv:/x rw
";

    #[test]
    fn selects_real_visible_unique_mounts() {
        let (mounts, bad) = mountinfo::parse(TEXT);
        assert!(bad.is_empty());
        let kept: Vec<(String, String)> =
            select(mounts.clone(), false).into_iter().map(|m| (m.mount_point, m.major_minor)).collect();
        let expect = [
            ("/", "254:0"),
            ("/dev/shm", "0:27"),
            ("/data", "0:50"),
            ("/data/home", "0:50"),
            ("/mnt/n", "0:42"),
        ];
        let expect: Vec<(String, String)> =
            expect.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        assert_eq!(kept, expect);
        assert!(select(mounts, true).iter().any(|m| m.fs_type == "proc"));
    }

    fn hand_root(mountinfo: &str) -> (tempfile::TempDir, FsRoot) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("proc/1")).unwrap();
        std::fs::write(dir.path().join("proc/1/mountinfo"), mountinfo).unwrap();
        let root = FsRoot::new(dir.path()).unwrap();
        (dir, root)
    }

    #[test]
    fn a_hung_mount_times_out_alone() {
        let (_d, root) = hand_root(TEXT);
        let stat: Arc<StatFn> = Arc::new(|p: &Path| {
            if p.ends_with("mnt/n") {
                std::thread::sleep(Duration::from_secs(5));
            }
            Ok(Usage { total: 100, free: 50, available: 40, inodes_total: 10, inodes_free: 5 })
        });
        // Under an alternate root stat is only called on reachable mounts, so check the
        // worker logic directly with every job reachable.
        let jobs: Vec<Job> =
            ["a", "mnt/n", "b"].iter().map(|p| Job { path: root.dir().join(p), expect_dev: None }).collect();
        let t = Instant::now();
        let out = measure(jobs, Duration::from_millis(200), stat);
        assert!(t.elapsed() < Duration::from_secs(2), "took {:?}", t.elapsed());
        assert!(matches!(out[0], Outcome::Usage(u) if u.total == 100));
        assert!(matches!(out[1], Outcome::TimedOut));
        assert!(matches!(out[2], Outcome::Usage(u) if u.available == 40));
    }

    #[test]
    fn a_hung_mount_is_a_problem_of_its_own_on_the_live_host() {
        let stat: Arc<StatFn> = Arc::new(|p: &Path| {
            if p == Path::new("/") {
                std::thread::sleep(Duration::from_secs(5));
            }
            statvfs(p)
        });
        let options = Options { include_pseudo: false, timeout: Duration::from_millis(200), stat };
        let mut problems = Problems::new();
        let t = Instant::now();
        let fs = detect_with(&FsRoot::host(), &options, &mut problems).unwrap();
        assert!(t.elapsed() < Duration::from_secs(3), "took {:?}", t.elapsed());
        let slash = fs.iter().find(|f| f.mount_point == "/").unwrap();
        assert_eq!(slash.total_bytes, None);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].path(), Some(Path::new("/")));
        assert!(problems[0].message().contains("no answer"), "{}", problems[0]);
        for f in fs.iter().filter(|f| f.mount_point != "/") {
            assert!(f.total_bytes.is_some(), "{} is measured despite the hung /", f.mount_point);
        }
    }

    #[test]
    fn alternate_root_leaves_foreign_mounts_unmeasured() {
        let (_d, root) = hand_root(TEXT);
        let mut problems = Problems::new();
        let fs = detect(&root, &mut problems).unwrap();
        assert_eq!(fs.len(), 5);
        assert!(fs.iter().all(|f| f.total_bytes.is_none()), "{fs:?}");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(fs[0].options, ["rw", "relatime", "discard"]);
    }

    #[test]
    fn alternate_root_measures_a_reachable_mount() {
        if !hypermesh_testkit::is_root() {
            hypermesh_testkit::skip("mounting a tmpfs needs root");
            return;
        }
        // A tree whose /mnt is a real mount (as /host/<mount point> is in a container), and
        // whose / is a plain directory on some other filesystem.
        let dir = tempfile::tempdir().unwrap();
        let mnt = dir.path().join("mnt");
        std::fs::create_dir_all(&mnt).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "hypermesh-test"])
            .arg(&mnt)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "mount tmpfs on {}", mnt.display());
        let mm = |p: &Path| {
            let st = rustix::fs::stat(p).unwrap();
            format!("{}:{}", rustix::fs::major(st.st_dev), rustix::fs::minor(st.st_dev))
        };
        let text = format!(
            "1 0 {} / / rw - ext4 /dev/x rw\n2 1 {} / /mnt rw - tmpfs t rw\n",
            mm(dir.path()),
            mm(&mnt)
        );
        std::fs::create_dir_all(dir.path().join("proc/1")).unwrap();
        std::fs::write(dir.path().join("proc/1/mountinfo"), text).unwrap();
        let root = FsRoot::new(dir.path()).unwrap();
        let fs = detect(&root, &mut Problems::new()).unwrap();
        let expect = statvfs(&mnt).unwrap();
        let _ = std::process::Command::new("umount").arg(&mnt).status();
        assert_eq!(fs[0].mount_point, "/");
        assert_eq!(fs[0].total_bytes, None, "the tree's / is a directory, not that mount");
        assert_eq!(fs[1].total_bytes, Some(expect.total));
        assert_eq!(fs[1].total_bytes, Some(1 << 20));
    }

    #[test]
    fn missing_and_garbage_mountinfo() {
        let dir = tempfile::tempdir().unwrap();
        let root = FsRoot::new(dir.path()).unwrap();
        assert!(detect(&root, &mut Problems::new()).is_err());
        let (_d, root) = hand_root("garbage line\n\n27 1 254:0 / / rw - ext4 /dev/vda rw\n");
        let mut problems = Problems::new();
        let fs = detect(&root, &mut problems).unwrap();
        assert_eq!(fs.len(), 1);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path().unwrap(), Path::new("/proc/1/mountinfo"));
    }
}
