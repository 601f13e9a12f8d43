//! The filesystem root that detection reads `/proc` and `/sys` from.
//!
//! A [`FsRoot`] is a value passed to every reader (like procfs' `FS{mountpoint}` or hwloc's
//! `HWLOC_FSROOT`): `/` on a live host, `/host` in a container that mounts the host there, or an
//! unpacked capture in tests. Paths are always given as the kernel spells them
//! (`/proc/meminfo`). Under an alternate root, symbolic links are resolved as if the root were
//! `/` (chroot semantics, `openat2(RESOLVE_IN_ROOT)`), so an absolute link such as
//! `proc/1/root -> /` can never lead out of the tree.

use crate::error::{Error, Result};
use rustix::fs::{Mode, OFlags, ResolveFlags};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

/// How often an `openat2` that raced with a rename or mount (EAGAIN) is tried again.
const OPENAT2_RETRIES: usize = 16;

/// Largest file a reader accepts; larger ones are reported, not read (a hostile or broken tree
/// must not exhaust memory).
pub const MAX_FILE_BYTES: usize = 16 << 20;

/// Bytes [`FsRoot::read_trimmed`] reads at once: a sysfs attribute's limit (one page).
pub const ATTRIBUTE_BYTES: usize = 4096;

/// Most symbolic links followed while resolving one path (the kernel's own limit is 40).
const MAX_LINKS: usize = 40;

/// A symbolic link met by [`FsRoot::resolve_links`]: the directory holding it (resolved), its
/// path and its target as stored.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinkMet<'a> {
    pub parent: &'a str,
    pub path: &'a str,
    pub target: &'a str,
}

/// How a path was used by a reader, as remembered by a recording root (see
/// [`FsRoot::recording`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    /// Opened as a regular file (content matters).
    File,
    /// Listed as a directory (names matter).
    Dir,
    /// Read as a symbolic link (target matters).
    Link,
    /// Tested for existence only.
    Exists,
}

/// Where `/proc` and `/sys` are read from.
#[derive(Debug)]
pub struct FsRoot {
    dir: PathBuf,
    /// Directory fd of an alternate root; `None` for the live host's `/`.
    fd: Option<OwnedFd>,
    /// Every path used, when recording (for `hypermesh capture`).
    recorder: Option<Mutex<Vec<(String, Access)>>>,
}

impl FsRoot {
    /// The live host: paths are opened as they are.
    pub fn host() -> Self {
        FsRoot { dir: PathBuf::from("/"), fd: None, recorder: None }
    }

    /// An alternate root directory that holds `proc/` and `sys/` (and optionally `etc/`, `dev/`).
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        if dir == Path::new("/") {
            return Ok(Self::host());
        }
        let fd = rustix::fs::open(&dir, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| Error::io(&dir, e.into()))?;
        Ok(FsRoot { dir, fd: Some(fd), recorder: None })
    }

    /// The same root, remembering every path that readers open, list, test or read as a link,
    /// so that exactly those can be archived afterwards ([`recorded`](Self::recorded)).
    pub fn recording(mut self) -> Self {
        self.recorder = Some(Mutex::new(Vec::new()));
        self
    }

    /// Paths used so far with how they were used, sorted and de-duplicated (empty when not
    /// recording).
    pub fn recorded(&self) -> Vec<(String, Access)> {
        let Some(rec) = &self.recorder else { return Vec::new() };
        let mut list = rec.lock().unwrap_or_else(|e| e.into_inner()).clone();
        list.sort_unstable();
        list.dedup();
        list
    }

    fn record(&self, path: &str, access: Access) {
        if let Some(rec) = &self.recorder {
            rec.lock().unwrap_or_else(|e| e.into_inner()).push((path.to_string(), access));
        }
    }

    /// The root directory on this machine (`/` for the live host).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// True when this is the live host's `/` (live-only facts such as addresses and statvfs
    /// apply only then).
    pub fn is_host(&self) -> bool {
        self.fd.is_none()
    }

    /// Path on this machine of a kernel path, without resolving links (for display and for
    /// syscalls that must see the real host, such as statvfs on a mount point).
    pub fn host_path(&self, path: &str) -> PathBuf {
        match self.fd {
            None => PathBuf::from(path),
            Some(_) => self.dir.join(path.trim_start_matches('/')),
        }
    }

    /// Opens a regular file for reading. Never blocks on FIFOs. Under an alternate root it
    /// refuses non-regular files; the live host skips that `fstat`, since its /proc and /sys
    /// hold only files and directories, and reading a directory fails (EISDIR) anyway.
    pub fn open(&self, path: &str) -> Result<File> {
        self.record(path, Access::File);
        let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY;
        let fd = self.open_raw(path, flags).map_err(|e| Error::io(path, e))?;
        let file = File::from(fd);
        if self.fd.is_some() {
            let meta = file.metadata().map_err(|e| Error::io(path, e))?;
            if !meta.file_type().is_file() {
                let what = if meta.is_dir() { "a directory" } else { "not a regular file" };
                return Err(Error::io(path, io::Error::other(format!("is {what}"))));
            }
        }
        Ok(file)
    }

    /// Reads a whole file as text (lossy UTF-8), at most [`MAX_FILE_BYTES`].
    pub fn read_string(&self, path: &str) -> Result<String> {
        let mut file = self.open(path)?;
        let mut buf = Vec::with_capacity(4096);
        read_bounded(&mut file, &mut buf).map_err(|e| Error::io(path, e))?;
        Ok(into_string(buf))
    }

    /// Reads a one-line attribute file, trimmed. One `read` when it is shorter than
    /// [`ATTRIBUTE_BYTES`]: sysfs produces an attribute whole (at most a page) on the first
    /// read, as procfs does a one-record file, and a short read of a regular file is its end;
    /// only a full buffer is read on to the end.
    pub fn read_trimmed(&self, path: &str) -> Result<String> {
        let mut file = self.open(path)?;
        let mut buf = vec![0u8; ATTRIBUTE_BYTES];
        let n = loop {
            match file.read(&mut buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other.map_err(|e| Error::io(path, e))?,
            }
        };
        buf.truncate(n);
        if n == ATTRIBUTE_BYTES {
            read_bounded(&mut file, &mut buf).map_err(|e| Error::io(path, e))?;
        }
        Ok(into_string(buf).trim().to_string())
    }

    /// Reads an attribute and parses it as a number.
    pub fn read_parsed<T: std::str::FromStr>(&self, path: &str) -> Result<T> {
        let text = self.read_trimmed(path)?;
        text.parse()
            .map_err(|_| Error::parse(path, format!("expected a number, found {:?}", truncate(&text, 40))))
    }

    /// Like [`read_trimmed`](Self::read_trimmed) but `None` when the file is missing or
    /// unreadable: for optional attributes that many devices lack.
    pub fn read_opt(&self, path: &str) -> Option<String> {
        self.read_trimmed(path).ok().filter(|s| !s.is_empty())
    }

    /// Like [`read_parsed`](Self::read_parsed) but `None` when missing, unreadable or not a number.
    pub fn read_opt_parsed<T: std::str::FromStr>(&self, path: &str) -> Option<T> {
        self.read_opt(path)?.parse().ok()
    }

    /// True when the path exists inside the root (links resolved inside the root).
    pub fn exists(&self, path: &str) -> bool {
        self.record(path, Access::Exists);
        self.open_raw(path, OFlags::PATH | OFlags::CLOEXEC).is_ok()
    }

    /// True when the path is a directory inside the root (links resolved inside the root);
    /// not recorded.
    pub fn is_dir(&self, path: &str) -> bool {
        self.open_raw(path, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC).is_ok()
    }

    /// Names in a directory, sorted, without `.` and `..`.
    pub fn read_dir(&self, path: &str) -> Result<Vec<String>> {
        self.record(path, Access::Dir);
        let fd = self
            .open_raw(path, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC)
            .map_err(|e| Error::io(path, e))?;
        let dir = rustix::fs::Dir::new(fd).map_err(|e| Error::io(path, e.into()))?;
        let mut names = Vec::new();
        for entry in dir {
            let entry = entry.map_err(|e| Error::io(path, e.into()))?;
            let name = entry.file_name().to_string_lossy();
            if name != "." && name != ".." {
                names.push(name.into_owned());
            }
        }
        names.sort_unstable();
        Ok(names)
    }

    /// The target of a symbolic link, as stored (e.g. `../../bus/pci/drivers/nvme`).
    pub fn read_link(&self, path: &str) -> Result<String> {
        self.record(path, Access::Link);
        let (parent, name) = split_parent(path);
        let fd = self
            .open_raw(parent, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC)
            .map_err(|e| Error::io(path, e))?;
        let target = rustix::fs::readlinkat(&fd, name, Vec::new()).map_err(|e| Error::io(path, e.into()))?;
        Ok(target.to_string_lossy().into_owned())
    }

    /// Last component of a link's target: the driver name of `.../driver`, the device of
    /// `.../subsystem`, and so on.
    pub fn link_name(&self, path: &str) -> Option<String> {
        let target = self.read_link(path).ok()?;
        target.rsplit('/').find(|c| !c.is_empty()).map(str::to_string)
    }

    /// Resolves every symbolic link of `path` inside the root and returns the kernel path it
    /// names (e.g. `/sys/class/net/eth0` → `/sys/devices/pci0000:00/0000:00:03.0/net/eth0`).
    pub fn resolve(&self, path: &str) -> Result<String> {
        self.resolve_links(path, true, |_| {})
    }

    /// [`resolve`](Self::resolve), calling `on_link` for every symbolic link met on the way; with
    /// `follow_last` false a link in the last component is reported but not followed (the
    /// result is then the link's own path). Fails with ELOOP after [`MAX_LINKS`] links.
    pub(crate) fn resolve_links(
        &self,
        path: &str,
        follow_last: bool,
        mut on_link: impl FnMut(LinkMet<'_>),
    ) -> Result<String> {
        let mut done: Vec<String> = Vec::new();
        let mut todo: Vec<String> = components_rev(path);
        let mut links = 0;
        while let Some(part) = todo.pop() {
            match part.as_str() {
                "." | "" => continue,
                ".." => {
                    done.pop();
                    continue;
                }
                _ => {}
            }
            let parent = format!("/{}", done.join("/"));
            done.push(part);
            let current = format!("/{}", done.join("/"));
            let target = match self.read_link(&current) {
                Ok(t) => t,
                Err(Error::Io { source, .. }) if source.raw_os_error() == Some(libc::EINVAL) => continue,
                Err(e) => return Err(e),
            };
            on_link(LinkMet { parent: &parent, path: &current, target: &target });
            if todo.is_empty() && !follow_last {
                break;
            }
            links += 1;
            if links > MAX_LINKS {
                return Err(Error::io(path, io::Error::from_raw_os_error(libc::ELOOP)));
            }
            done.pop();
            if target.starts_with('/') {
                done.clear();
            }
            todo.extend(components_rev(&target));
        }
        Ok(format!("/{}", done.join("/")))
    }

    fn open_raw(&self, path: &str, flags: OFlags) -> io::Result<OwnedFd> {
        match &self.fd {
            None => Ok(rustix::fs::open(path, flags, Mode::empty())?),
            Some(root) => {
                let rel = path.trim_start_matches('/');
                let rel = if rel.is_empty() { "." } else { rel };
                let how = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS;
                // EAGAIN: a rename or mount anywhere on the system raced with a `..` in the
                // path (relative sysfs links are full of them); the kernel asks to try again.
                let attempt = || rustix::fs::openat2(root, rel, flags, Mode::empty(), how);
                let mut result = attempt();
                for _ in 0..OPENAT2_RETRIES {
                    if !matches!(result, Err(rustix::io::Errno::AGAIN)) {
                        break;
                    }
                    result = attempt();
                }
                match result {
                    Err(rustix::io::Errno::NOSYS) => {
                        // Kernels before 5.6 lack openat2: resolve inside the root by hand.
                        let resolved = self.resolve(path).map_err(|e| match e {
                            Error::Io { source, .. } => source,
                            other => io::Error::other(other.to_string()),
                        })?;
                        let real = self.dir.join(resolved.trim_start_matches('/'));
                        Ok(rustix::fs::open(&real, flags | OFlags::NOFOLLOW, Mode::empty())?)
                    }
                    other => Ok(other?),
                }
            }
        }
    }
}

/// Reads from the start of an already open file into `buf` with `pread`, at most
/// [`MAX_FILE_BYTES`], and returns the number of bytes read: the text is `buf[..n]`. For sampling
/// the same /proc file repeatedly without reopening it: `buf` keeps its length between calls so
/// its bytes are zeroed only when it grows.
pub fn pread_all(file: &File, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut len = 0;
    loop {
        if buf.len() - len < 1024 {
            buf.resize((buf.len() * 2).max(4096), 0);
        }
        match file.read_at(&mut buf[len..], len as u64) {
            Ok(0) => return Ok(len),
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        if len > MAX_FILE_BYTES {
            return Err(too_large());
        }
    }
}

/// Appends the rest of `file` to `buf`, refusing to hold more than [`MAX_FILE_BYTES`] in all.
fn read_bounded(file: &mut File, buf: &mut Vec<u8>) -> io::Result<()> {
    let room = MAX_FILE_BYTES.saturating_sub(buf.len()) as u64 + 1;
    file.take(room).read_to_end(buf)?;
    if buf.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    Ok(())
}

fn too_large() -> io::Error {
    io::Error::other(format!("file larger than {} MiB, not read", MAX_FILE_BYTES >> 20))
}

fn into_string(buf: Vec<u8>) -> String {
    String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn split_parent(path: &str) -> (&str, &str) {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(0) => ("/", &trimmed[1..]),
        Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
        None => (".", trimmed),
    }
}

/// Components of a path in reverse order (`..` kept), for resolving links one at a time.
fn components_rev(path: &str) -> Vec<String> {
    let mut parts: Vec<String> = Path::new(path)
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".to_string()),
            _ => None,
        })
        .collect();
    parts.reverse();
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> (tempfile::TempDir, FsRoot) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("proc/1")).unwrap();
        std::fs::create_dir_all(d.join("sys/devices/pci0000:00/0000:00:03.0/net/eth0")).unwrap();
        std::fs::create_dir_all(d.join("sys/class/net")).unwrap();
        std::fs::write(d.join("proc/meminfo"), "MemTotal: 1 kB\n").unwrap();
        std::fs::write(d.join("sys/devices/pci0000:00/0000:00:03.0/net/eth0/mtu"), "1500\n").unwrap();
        symlink("../../devices/pci0000:00/0000:00:03.0/net/eth0", d.join("sys/class/net/eth0")).unwrap();
        symlink("/", d.join("proc/1/root")).unwrap();
        symlink("loop", d.join("proc/loop")).unwrap();
        let root = FsRoot::new(d).unwrap();
        (dir, root)
    }

    #[test]
    fn reads_files_and_follows_relative_links() {
        let (_d, root) = tree();
        assert_eq!(root.read_trimmed("/proc/meminfo").unwrap(), "MemTotal: 1 kB");
        assert_eq!(root.read_parsed::<u32>("/sys/class/net/eth0/mtu").unwrap(), 1500);
        assert_eq!(
            root.resolve("/sys/class/net/eth0").unwrap(),
            "/sys/devices/pci0000:00/0000:00:03.0/net/eth0"
        );
        assert_eq!(root.read_dir("/sys/class/net").unwrap(), vec!["eth0".to_string()]);
    }

    #[test]
    fn absolute_links_stay_inside_the_root() {
        let (_d, root) = tree();
        // proc/1/root -> / must mean the tree's root, so /proc/1/root/proc/meminfo is the tree's.
        assert_eq!(root.read_trimmed("/proc/1/root/proc/meminfo").unwrap(), "MemTotal: 1 kB");
        assert!(root.read_string("/proc/1/root/etc/passwd").is_err());
        assert_eq!(root.resolve("/proc/1/root").unwrap(), "/");
    }

    #[test]
    fn loops_missing_dirs_and_fifos_are_errors_not_hangs() {
        let (d, root) = tree();
        assert!(root.read_string("/proc/loop").is_err());
        assert!(root.resolve("/proc/loop").is_err());
        assert!(root.read_string("/proc/missing").unwrap_err().is_not_found());
        assert!(root.read_string("/proc/1").is_err());
        rustix::fs::mknodat(
            rustix::fs::CWD,
            d.path().join("proc/fifo"),
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        let err = root.read_string("/proc/fifo").unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    #[test]
    fn attributes_longer_than_one_read_are_read_whole() {
        let (d, root) = tree();
        for len in [ATTRIBUTE_BYTES - 1, ATTRIBUTE_BYTES, ATTRIBUTE_BYTES + 1, 3 * ATTRIBUTE_BYTES] {
            let text = "7".repeat(len);
            std::fs::write(d.path().join("proc/long"), &text).unwrap();
            assert_eq!(root.read_trimmed("/proc/long").unwrap(), text, "{len} bytes");
        }
    }

    #[test]
    fn host_directories_fail_to_read_without_the_fstat() {
        let host = FsRoot::host();
        assert!(host.read_string("/proc/self").is_err());
        assert!(host.read_trimmed("/proc/self").is_err());
        // A live attribute read in one go equals the whole file.
        let whole = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        assert_eq!(host.read_trimmed("/proc/sys/kernel/osrelease").unwrap(), whole.trim());
    }

    #[test]
    fn recording_remembers_each_use_once() {
        let (_d, root) = tree();
        let root = root.recording();
        root.read_string("/proc/meminfo").unwrap();
        root.read_string("/proc/meminfo").unwrap();
        root.read_dir("/sys/class/net").unwrap();
        assert!(!root.exists("/proc/nothing"));
        assert_eq!(
            root.recorded(),
            vec![
                ("/proc/meminfo".to_string(), Access::File),
                ("/proc/nothing".to_string(), Access::Exists),
                ("/sys/class/net".to_string(), Access::Dir),
            ]
        );
        let (_d2, plain) = tree();
        plain.read_string("/proc/meminfo").unwrap();
        assert!(plain.recorded().is_empty());
    }

    #[test]
    fn pread_rereads_from_the_start() {
        let (_d, root) = tree();
        let file = root.open("/proc/meminfo").unwrap();
        let mut buf = Vec::new();
        let n = pread_all(&file, &mut buf).unwrap();
        assert_eq!(pread_all(&file, &mut buf).unwrap(), n);
        assert_eq!(&buf[..n], b"MemTotal: 1 kB\n");
    }
}
