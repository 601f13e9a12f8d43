//! `hypermesh capture`: archive exactly the /proc, /sys (and /etc) files a profile reads, so that
//! `--root` on the unpacked archive gives the same profile (minus live values).
//!
//! A full profile runs over a recording [`FsRoot`]; every path it used is then copied into a
//! tar.gz: regular files with their content, every symbolic link met on the way (targets kept as
//! they are, so relative links still work under the new root), listed directories with their
//! sub-directories and links, and the directories above all of these. One usage sample is
//! recorded the same way, so that `usage --root` finds the counters and the process's cgroup.
//!
//! [`capture_to_file`] writes the archive to a temporary file beside the destination, fsyncs
//! it and renames it into place: a failure (ENOSPC, a signal) never leaves a partial archive
//! under the destination's name, and a symbolic link at the destination is refused, never
//! written through.

use crate::error::{Error, Result};
use crate::linux::LinuxBackend;
use crate::profile::{HostProfile, detect};
use crate::root::{Access, FsRoot, MAX_FILE_BYTES};
use crate::usage::Sampler;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

/// One archived item, by kernel path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Dir,
    File(Vec<u8>),
    Link(String),
}

/// What an archive holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Regular files.
    pub files: usize,
    /// Directories.
    pub dirs: usize,
    /// Symbolic links.
    pub links: usize,
    /// Bytes of file content.
    pub bytes: u64,
}

/// Runs a full profile and one usage sample over `root` while recording, and writes the
/// archive of what they read as gzip-compressed tar to `out`. Returns the profile and the
/// archive's counts.
pub fn capture(root: FsRoot, out: impl Write) -> Result<(HostProfile, Stats)> {
    let usage_root = FsRoot::new(root.dir())?.recording();
    let (profile, backend) = profile_recorded(root);
    let mut sampler = Sampler::new(usage_root);
    sampler.sample();
    let mut recorded = backend.root().recorded();
    recorded.extend(sampler.root().recorded());
    recorded.sort_unstable();
    recorded.dedup();
    let stats = write_archive(backend.root(), &recorded, out)?;
    Ok((profile, stats))
}

/// [`capture`] into the file `dest`, atomically: written to a new temporary file in the same
/// directory, fsync'd, renamed over `dest`, and the directory fsync'd. A symbolic link at
/// `dest` is refused (its target is left untouched); on any failure the temporary file is
/// removed and `dest` is as it was.
pub fn capture_to_file(root: FsRoot, dest: &Path) -> Result<(HostProfile, Stats)> {
    match std::fs::symlink_metadata(dest) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(Error::io(
                dest,
                std::io::Error::other("is a symbolic link; refusing to write through it"),
            ));
        }
        Ok(meta) if meta.is_dir() => {
            return Err(Error::io(dest, std::io::Error::other("is a directory")));
        }
        _ => {}
    }
    let name = dest.file_name().ok_or_else(|| Error::io(dest, std::io::Error::other("no file name")))?;
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    // create_new: O_CREAT|O_EXCL, which never follows a link at the temporary name either.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| Error::io(&tmp, e))?;
    let written = (|| {
        let mut out = std::io::BufWriter::new(file);
        let result = capture(root, &mut out)?;
        let file = out.into_inner().map_err(|e| Error::io(&tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, dest).map_err(|e| Error::io(dest, e))?;
        Ok(result)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    let result = written?;
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io(dir, e))?;
    Ok(result)
}

/// Runs a full profile over `root` while recording; the backend's root then lists every path
/// the profile used ([`FsRoot::recorded`]).
pub fn profile_recorded(root: FsRoot) -> (HostProfile, LinuxBackend) {
    let backend = LinuxBackend::new(root.recording());
    (detect(&backend, &[]), backend)
}

/// Writes the given recorded paths of `root` as a tar.gz to `out`.
pub fn write_archive(root: &FsRoot, recorded: &[(String, Access)], out: impl Write) -> Result<Stats> {
    let mut items: BTreeMap<String, Item> = BTreeMap::new();
    for (path, access) in recorded {
        collect(root, path, *access, &mut items);
    }
    let gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mut stats = Stats::default();
    let io = |e: std::io::Error| Error::io("capture archive", e);
    for (path, item) in &items {
        let name = Path::new(path.trim_start_matches('/'));
        let mut header = tar::Header::new_gnu();
        header.set_mtime(0);
        match item {
            Item::Dir => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                tar.append_data(&mut header, name, std::io::empty()).map_err(io)?;
                stats.dirs += 1;
            }
            Item::File(data) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                header.set_size(data.len() as u64);
                tar.append_data(&mut header, name, data.as_slice()).map_err(io)?;
                stats.files += 1;
                stats.bytes += data.len() as u64;
            }
            Item::Link(target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                tar.append_link(&mut header, name, target).map_err(io)?;
                stats.links += 1;
            }
        }
    }
    tar.into_inner().map_err(io)?.finish().map_err(io)?;
    Ok(stats)
}

/// Adds what one recorded use needs: the links and directories on the way, then the item.
fn collect(root: &FsRoot, path: &str, access: Access, items: &mut BTreeMap<String, Item>) {
    let Some(target) = walk(root, path, access != Access::Link, items) else { return };
    match access {
        Access::File => {
            if let Some(data) = read_raw(root, &target) {
                items.insert(target, Item::File(data));
            }
        }
        Access::Dir => {
            let Ok(names) = root.read_dir(&target) else { return };
            items.entry(target.clone()).or_insert(Item::Dir);
            for name in names {
                let child = format!("{}/{name}", target.trim_end_matches('/'));
                if let Ok(link) = root.read_link(&child) {
                    items.entry(child).or_insert(Item::Link(link));
                } else if root.is_dir(&child) {
                    items.entry(child).or_insert(Item::Dir);
                }
            }
        }
        Access::Exists => {
            if root.is_dir(&target) {
                items.entry(target).or_insert(Item::Dir);
            } else if root.exists(&target) {
                // Only presence was asked: an empty file stands for it.
                items.entry(target).or_insert(Item::File(Vec::new()));
            }
        }
        Access::Link => {}
    }
}

/// Resolves `path` inside the root ([`FsRoot::resolve_links`]), adding every symbolic link met
/// (and the directories holding it); with `follow_last` false a link in the last component is
/// added, not followed. Returns the resolved path, or `None` when it cannot be resolved.
fn walk(root: &FsRoot, path: &str, follow_last: bool, items: &mut BTreeMap<String, Item>) -> Option<String> {
    let resolved = root
        .resolve_links(path, follow_last, |link| {
            add_dirs(link.parent, items);
            items.insert(link.path.to_string(), Item::Link(link.target.to_string()));
        })
        .ok()?;
    if let Some((parent, _)) = resolved.rsplit_once('/') {
        add_dirs(if parent.is_empty() { "/" } else { parent }, items);
    }
    Some(resolved)
}

/// Adds a directory and its ancestors (which contain no links: paths here are resolved).
fn add_dirs(dir: &str, items: &mut BTreeMap<String, Item>) {
    let mut path = String::new();
    for part in dir.split('/').filter(|p| !p.is_empty()) {
        path.push('/');
        path.push_str(part);
        items.entry(path.clone()).or_insert(Item::Dir);
    }
}

/// The bytes of a file, at most [`MAX_FILE_BYTES`]; `None` when it cannot be read (a file the
/// profile failed to read is left out, so the replay fails the same way).
fn read_raw(root: &FsRoot, path: &str) -> Option<Vec<u8>> {
    let file = root.open(path).ok()?;
    let mut buf = Vec::new();
    file.take(MAX_FILE_BYTES as u64).read_to_end(&mut buf).ok()?;
    Some(buf)
}
