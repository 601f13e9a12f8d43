//! The least work any program must do to read what a profile reads: the floor under its cost.
//!
//! [`record`] runs a full profile of the live host over a recording [`FsRoot`] and lists every
//! kernel source it used, once each, plus the statvfs of each measured filesystem and one
//! getifaddrs. [`replay`] then does exactly those system calls and nothing else: no parsing, no
//! allocation per file, the cheapest call per kind (one `read` into a reused buffer, `access`
//! for an existence test). The profile bench times it in-process beside the profile, and
//! `scripts/bench-process.sh` times it as a whole process (`examples/read_floor.rs`) beside
//! `hypermesh profile --json` and the sysinfo-based program: no program reporting the same
//! facts from the same sources can take less.

use hypermesh_os::capture::profile_recorded;
use hypermesh_os::root::{Access, FsRoot};
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;

/// One system-level read of a kernel source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Open, read to the end, close.
    File(String),
    /// Open a directory, list it, close.
    Dir(String),
    /// Read a symbolic link.
    Link(String),
    /// Test that a path exists.
    Exists(String),
    /// statvfs of a mount point.
    Statvfs(PathBuf),
    /// getifaddrs: every interface address, over netlink.
    Addresses,
}

/// What a replay touched, so that the work cannot be optimised away and failures are seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Steps that succeeded.
    pub done: usize,
    /// Steps that failed (a source that is missing here is a failed step, as in the profile).
    pub failed: usize,
    /// Bytes read from files.
    pub bytes: usize,
}

/// Profiles the live host once over a recording root and returns what it read, in order.
pub fn record() -> Vec<Step> {
    let (profile, backend) = profile_recorded(FsRoot::host());
    let mut steps: Vec<Step> = backend
        .root()
        .recorded()
        .into_iter()
        .map(|(path, access)| match access {
            Access::File => Step::File(path),
            Access::Dir => Step::Dir(path),
            Access::Link => Step::Link(path),
            Access::Exists => Step::Exists(path),
        })
        .collect();
    let filesystems = profile.storage.iter().flat_map(|s| &s.filesystems);
    steps.extend(
        filesystems.filter(|f| f.total_bytes.is_some()).map(|f| Step::Statvfs(f.mount_point.clone().into())),
    );
    if profile.network.is_some() {
        steps.push(Step::Addresses);
    }
    steps
}

/// Does every step on `threads` threads (steps dealt out in turn; 1 = this thread alone).
pub fn replay(steps: &[Step], threads: usize) -> Replayed {
    let threads = threads.max(1);
    if threads == 1 {
        return replay_share(steps, 0, 1);
    }
    std::thread::scope(|s| {
        let others: Vec<_> = (1..threads).map(|t| s.spawn(move || replay_share(steps, t, threads))).collect();
        let mut total = replay_share(steps, 0, threads);
        for share in others.into_iter().filter_map(|h| h.join().ok()) {
            total.done += share.done;
            total.failed += share.failed;
            total.bytes += share.bytes;
        }
        total
    })
}

/// Steps `first`, `first + every`, ... of `steps`.
fn replay_share(steps: &[Step], first: usize, every: usize) -> Replayed {
    let mut buf = vec![0u8; 1 << 16];
    let mut out = Replayed::default();
    for step in steps.iter().skip(first).step_by(every) {
        match run(step, &mut buf) {
            Ok(bytes) => {
                out.done += 1;
                out.bytes += bytes;
            }
            Err(_) => out.failed += 1,
        }
    }
    out
}

/// Does one step; returns the bytes read.
fn run(step: &Step, buf: &mut [u8]) -> io::Result<usize> {
    use rustix::fs::{self, Mode, OFlags};
    match step {
        Step::File(path) => {
            let fd =
                fs::open(path.as_str(), OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK, Mode::empty())?;
            let mut total = 0;
            loop {
                let n = rustix::io::read(&fd, &mut *buf)?;
                total += n;
                if n < buf.len() {
                    return Ok(total);
                }
            }
        }
        Step::Dir(path) => {
            let fd =
                fs::open(path.as_str(), OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
            let mut dir = fs::Dir::new(fd)?;
            while dir.next().transpose()?.is_some() {}
            Ok(0)
        }
        Step::Link(path) => Ok(fs::readlink(path.as_str(), Vec::new())?.as_bytes().len()),
        Step::Exists(path) => Ok(fs::access(path.as_str(), fs::Access::EXISTS).map(|()| 0)?),
        Step::Statvfs(path) => Ok(fs::statvfs(path).map(|_| 0)?),
        Step::Addresses => Ok(nix::ifaddrs::getifaddrs().map_err(io::Error::from)?.count()),
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::File(p) => write!(f, "file {p}"),
            Step::Dir(p) => write!(f, "dir {p}"),
            Step::Link(p) => write!(f, "link {p}"),
            Step::Exists(p) => write!(f, "exists {p}"),
            Step::Statvfs(p) => write!(f, "statvfs {}", p.display()),
            Step::Addresses => write!(f, "addresses"),
        }
    }
}

impl FromStr for Step {
    type Err = String;

    /// Parses one line as [`Display`](fmt::Display) writes it.
    fn from_str(line: &str) -> Result<Self, String> {
        let (kind, path) = line.split_once(' ').unwrap_or((line, ""));
        let path = path.to_string();
        Ok(match kind {
            "file" => Step::File(path),
            "dir" => Step::Dir(path),
            "link" => Step::Link(path),
            "exists" => Step::Exists(path),
            "statvfs" => Step::Statvfs(path.into()),
            "addresses" => Step::Addresses,
            _ => return Err(format!("not a step: {line:?}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_read_back_as_written() {
        let steps = [
            Step::File("/proc/meminfo".into()),
            Step::Dir("/sys/block".into()),
            Step::Link("/sys/class/net/eth0/device".into()),
            Step::Exists("/.dockerenv".into()),
            Step::Statvfs("/mnt/my disk".into()),
            Step::Addresses,
        ];
        for step in steps {
            assert_eq!(step.to_string().parse::<Step>(), Ok(step));
        }
        assert!("chmod /etc".parse::<Step>().is_err());
    }

    #[test]
    fn the_live_host_record_replays_what_the_profile_read() {
        let steps = record();
        assert!(steps.contains(&Step::File("/proc/meminfo".into())), "{steps:?}");
        assert!(steps.contains(&Step::Dir("/sys/block".into())), "{steps:?}");
        let one = replay(&steps, 1);
        assert_eq!(one.done + one.failed, steps.len());
        // /proc/meminfo alone is more than a kilobyte.
        assert!(one.bytes > 1024, "{one:?}");
        let two = replay(&steps, 2);
        assert_eq!(two.done + two.failed, steps.len());
    }
}
