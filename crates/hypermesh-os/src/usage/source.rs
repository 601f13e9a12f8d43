//! One counter file kept open between samples and re-read with `pread` into a reused buffer.

use crate::error::{Error, Result};
use crate::root::{FsRoot, pread_all};
use std::fs::File;

/// A kernel file read once per sample. Opened lazily: a file that is missing now (a cgroup file
/// not yet created) is tried again at the next sample.
#[derive(Debug)]
pub(crate) struct Source {
    path: String,
    file: Option<File>,
    buf: Vec<u8>,
}

impl Source {
    /// A source for `path` (a kernel path such as `/proc/stat`), opened now if possible.
    pub(crate) fn new(root: &FsRoot, path: impl Into<String>) -> Self {
        let path = path.into();
        let file = root.open(&path).ok();
        Source { path, file, buf: Vec::with_capacity(4096) }
    }

    /// A source for a file that can be opened now, or why it cannot (for files whose presence
    /// is settled when the sampler is made: the limit files of a cgroup, the PSI files, which a
    /// kernel has or lacks for as long as it runs).
    pub(crate) fn opened(root: &FsRoot, path: impl Into<String>) -> Result<Self> {
        let path = path.into();
        let file = root.open(&path)?;
        Ok(Source { path, file: Some(file), buf: Vec::with_capacity(256) })
    }

    /// [`Source::opened`], `None` when the file cannot be opened.
    pub(crate) fn existing(root: &FsRoot, path: impl Into<String>) -> Option<Self> {
        Self::opened(root, path).ok()
    }

    /// The kernel path.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// Reads the whole file from offset 0 and returns its text (invalid UTF-8 is an error: every
    /// file read here is ASCII).
    pub(crate) fn read(&mut self, root: &FsRoot) -> Result<&str> {
        let file = match &self.file {
            Some(file) => file,
            None => self.file.insert(root.open(&self.path)?),
        };
        let len = match pread_all(file, &mut self.buf) {
            Ok(len) => len,
            Err(e) => {
                // A file removed under us (cgroup deleted, device gone): reopen next time.
                self.file = None;
                return Err(Error::io(&self.path, e));
            }
        };
        std::str::from_utf8(&self.buf[..len]).map_err(|_| Error::parse(&self.path, "not valid UTF-8"))
    }
}
