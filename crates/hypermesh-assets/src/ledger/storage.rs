//! The ledger file on disk: created atomically, copied whole under redb's own lock so that a
//! reader never writes it, verified in memory, and every call into redb behind a panic boundary.

use redb::backends::FileBackend;
use redb::{BackendError, Builder, Database, DatabaseError, ReadOnlyDatabase, StorageBackend};
use std::cell::Cell;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::ops::Bound;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Once, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// Largest ledger file read into memory (a ledger of a million allocations is ~300 MB).
pub(crate) const MAX_LEDGER_BYTES: u64 = 512 << 20;

/// What lies at the ledger path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileState {
    /// No file.
    Missing,
    /// Empty or all zero bytes: a creation that never reached its first commit (redb writes its
    /// magic number last). Nothing in it was ever acknowledged.
    NeverCommitted,
    /// Anything else: it held data once, and is used or reported, never reset.
    Present,
}

/// What lies at `path`.
pub(crate) fn file_state(path: &Path) -> io::Result<FileState> {
    let mut file = match File::open(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(FileState::Missing),
        other => other?,
    };
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(FileState::NeverCommitted);
        }
        if buf[..n].iter().any(|&b| b != 0) {
            return Ok(FileState::Present);
        }
    }
}

thread_local! {
    /// Set while this thread runs redb code behind [`guarded`]: its panics are errors, not news.
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` (a call into redb), turning a panic into `Err` with its message. The panic hook
/// stays quiet for such panics (it is chained to the previous hook for every other one).
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let outer = GUARDED.with(|g| g.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(outer));
    result.map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        format!("the storage library failed on it ({message})")
    })
}

/// Calls `open` until it stops answering "already open" or `wait` has passed.
pub(crate) fn retry_while_busy<T>(
    wait: Duration,
    mut open: impl FnMut() -> Result<T, DatabaseError>,
) -> Result<T, DatabaseError> {
    let deadline = Instant::now() + wait;
    loop {
        match open() {
            Err(DatabaseError::DatabaseAlreadyOpen) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// Why a copy of the ledger could not be taken.
#[derive(Debug)]
pub(crate) enum CopyError {
    /// redb refused (busy, I/O, not a database); nothing was copied.
    Open(DatabaseError),
    /// The file could not be read, or is larger than [`MAX_LEDGER_BYTES`].
    Io(io::Error),
    /// redb panicked while opening it.
    Panic(String),
}

/// The whole ledger file, read while redb's shared lock on it is held, so that no writer is
/// half-way through a commit. Opens the file read-only and writes nothing, even when a crash
/// left it needing repair (the repair is then done on the copy).
pub(crate) fn copy_under_lock(path: &Path, wait: Duration) -> Result<Vec<u8>, CopyError> {
    let attempt = || -> Result<Vec<u8>, CopyError> {
        let file = File::open(path).map_err(CopyError::Io)?;
        let image = Arc::new(Mutex::new(None));
        let backend =
            LockedCopy { file: FileBackend::new(file).map_err(CopyError::Open)?, image: image.clone() };
        let opened = guarded(|| Builder::new().open_read_only_with_backend(backend))
            .map_err(CopyError::Panic)?
            .map(drop::<ReadOnlyDatabase>);
        let copied = image.lock().unwrap_or_else(PoisonError::into_inner).take();
        match (copied, opened) {
            // A file a crash left needing repair is refused by a read-only open, once copied.
            (Some(Ok(bytes)), _) => Ok(bytes),
            (Some(Err(e)), _) => Err(CopyError::Io(e)),
            (None, Err(e)) => Err(CopyError::Open(e)),
            (None, Ok(())) => {
                Err(CopyError::Io(io::Error::other("redb opened the ledger without reading it")))
            }
        }
    };
    let deadline = Instant::now() + wait;
    loop {
        match attempt() {
            Err(CopyError::Open(DatabaseError::DatabaseAlreadyOpen)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// A read-only backend over the ledger file: redb's locks are taken on the file itself; the
/// first length query (made once they are held) copies the whole file, and redb then reads the
/// copy. Writes are refused.
#[derive(Debug)]
struct LockedCopy {
    file: FileBackend,
    image: Arc<Mutex<Option<io::Result<Vec<u8>>>>>,
}

impl LockedCopy {
    fn with_image<T>(&self, f: impl FnOnce(&[u8]) -> io::Result<T>) -> io::Result<T> {
        let mut image = self.image.lock().unwrap_or_else(PoisonError::into_inner);
        if image.is_none() {
            *image = Some(self.read_all());
        }
        match image.as_ref() {
            Some(Ok(bytes)) => f(bytes),
            Some(Err(e)) => Err(io::Error::new(e.kind(), e.to_string())),
            None => Err(io::Error::other("no copy")),
        }
    }

    fn read_all(&self) -> io::Result<Vec<u8>> {
        let len = self.file.len()?;
        if len > MAX_LEDGER_BYTES {
            return Err(io::Error::other(format!(
                "the ledger is {len} bytes, more than the {MAX_LEDGER_BYTES} read into memory"
            )));
        }
        let mut bytes = vec![0; len as usize];
        self.file.read(0, &mut bytes)?;
        Ok(bytes)
    }
}

fn read_only() -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, "the ledger is being read, not written")
}

impl StorageBackend for LockedCopy {
    fn len(&self) -> io::Result<u64> {
        self.with_image(|b| Ok(b.len() as u64))
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        self.with_image(|b| {
            let start = usize::try_from(offset).map_err(|_| io::Error::other("offset out of range"))?;
            let source = b
                .get(start..start.saturating_add(out.len()))
                .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end"))?;
            out.copy_from_slice(source);
            Ok(())
        })
    }

    fn set_len(&self, _: u64) -> io::Result<()> {
        Err(read_only())
    }

    fn sync_data(&self) -> io::Result<()> {
        Ok(())
    }

    fn write(&self, _: u64, _: &[u8]) -> io::Result<()> {
        Err(read_only())
    }

    fn close(&self) -> io::Result<()> {
        self.file.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.try_lock_range(start, end)
    }

    fn try_lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.query_lock_range(start, end)
    }
}

/// A ledger image in memory: redb may repair it, and its writes stay there.
#[derive(Debug)]
struct Image(RwLock<Vec<u8>>);

impl StorageBackend for Image {
    fn len(&self) -> io::Result<u64> {
        Ok(self.0.read().unwrap_or_else(PoisonError::into_inner).len() as u64)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        let image = self.0.read().unwrap_or_else(PoisonError::into_inner);
        let start = usize::try_from(offset).map_err(|_| io::Error::other("offset out of range"))?;
        let source = image
            .get(start..start.saturating_add(out.len()))
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end"))?;
        out.copy_from_slice(source);
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        if len > MAX_LEDGER_BYTES {
            return Err(io::Error::other("the ledger image would grow too large"));
        }
        self.0.write().unwrap_or_else(PoisonError::into_inner).resize(len as usize, 0);
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut image = self.0.write().unwrap_or_else(PoisonError::into_inner);
        let start = usize::try_from(offset).map_err(|_| io::Error::other("offset out of range"))?;
        let target = image
            .get_mut(start..start.saturating_add(data.len()))
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "write past the end"))?;
        target.copy_from_slice(data);
        Ok(())
    }
}

/// Opens a copy of the ledger in memory with redb's full check: every page checksum of the
/// committed trees is verified (any repair happens in memory). `fell_back` is set when the last
/// commit did not verify and redb fell back to the one before it (possible only for commits made
/// in one phase, as versions before 2-phase commits did).
pub(crate) fn open_image(bytes: Vec<u8>, fell_back: Arc<Mutex<bool>>) -> Result<Database, DatabaseError> {
    let mut builder = Builder::new();
    builder.set_check_integrity_on_open(true);
    builder.set_repair_callback(move |session| {
        // Progress 0.3 is reported only when the primary commit slot failed verification.
        if (session.progress() - 0.3).abs() < 1e-9 {
            *fell_back.lock().unwrap_or_else(PoisonError::into_inner) = true;
        }
    });
    builder.create_with_backend(Image(RwLock::new(bytes)))
}

/// Creates a new ledger at `path` atomically: initialised (by `init`) in a temporary file of
/// the same directory, fsync'd, then linked to `path` only if nothing is there yet, and the
/// directory fsync'd. A crash at any point leaves either no ledger or a complete one (and at
/// worst a temporary file). Returns false when another process created it first.
pub(crate) fn create_atomically(
    path: &Path,
    init: impl FnOnce(&Database) -> Result<(), String>,
) -> io::Result<bool> {
    let tmp = build_temporary(path, init)?;
    let linked = std::fs::hard_link(&tmp, path);
    let removed = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(e),
    }
    removed?;
    sync_dir(path)?;
    Ok(true)
}

/// Replaces a never-committed (empty or all-zero) file at `path` by a new ledger, atomically,
/// while holding an exclusive lock on the old file so that two processes do not both replace
/// it. Returns false when the file was no longer a never-committed one.
pub(crate) fn replace_never_committed(
    path: &Path,
    init: impl FnOnce(&Database) -> Result<(), String>,
) -> io::Result<bool> {
    let old = File::open(path)?;
    old.lock()?;
    // Another process may have replaced it while this one waited for the lock.
    if !same_file(&old, path)? || file_state(path)? != FileState::NeverCommitted {
        return Ok(false);
    }
    let tmp = build_temporary(path, init)?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(path)?;
    Ok(true)
}

fn build_temporary(path: &Path, init: impl FnOnce(&Database) -> Result<(), String>) -> io::Result<PathBuf> {
    let tmp = temporary_beside(path);
    let result = (|| {
        let file = OpenOptions::new().read(true).write(true).create_new(true).open(&tmp)?;
        let db = guarded(|| Builder::new().create_with_backend(FileBackend::new(file)?))
            .map_err(io::Error::other)?
            .map_err(to_io)?;
        guarded(|| init(&db)).and_then(|r| r).map_err(io::Error::other)?;
        drop(db);
        File::open(&tmp)?.sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(tmp)
}

/// `bytes` written to `path` atomically: temporary file, fsync, rename, directory fsync.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temporary_copy(path, bytes)?;
    install(path, &tmp, None)
}

/// A temporary file beside `path` holding `bytes`, fsync'd.
pub(crate) fn temporary_copy(path: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    let tmp = temporary_beside(path);
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        io::Write::write_all(&mut file, bytes)?;
        file.sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(tmp)
}

/// A temporary file beside `path` holding a new ledger initialised by `init`, fsync'd.
pub(crate) fn temporary_ledger(
    path: &Path,
    init: impl FnOnce(&Database) -> Result<(), String>,
) -> io::Result<PathBuf> {
    build_temporary(path, init)
}

/// Puts the temporary file `tmp` at `path` (atomically replacing what is there, which is first
/// linked to `aside` when given), and makes that durable.
pub(crate) fn install(path: &Path, tmp: &Path, aside: Option<&Path>) -> io::Result<()> {
    let result = (|| {
        if let Some(aside) = aside {
            std::fs::hard_link(path, aside)?;
        }
        std::fs::rename(tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(tmp);
        return Err(e);
    }
    sync_dir(path)
}

/// Removes the temporary files beside `path` that a process killed while creating the ledger
/// or its backup left, once they are an hour old (a younger one may still be in use).
pub(crate) fn remove_stale_temporaries(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else { return };
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > Duration::from_secs(3600)));
        if file_name.starts_with(&prefix) && file_name.ends_with(".tmp") && old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// `.NAME.PID.NANOS.tmp` in the directory of `path`.
fn temporary_beside(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.{}.tmp", std::process::id(), nanos.as_nanos()))
}

fn same_file(file: &File, path: &Path) -> io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let (a, b) = (file.metadata()?, std::fs::metadata(path)?);
        Ok(a.dev() == b.dev() && a.ino() == b.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        Ok(true)
    }
}

/// Makes a rename or link in the directory of `path` durable (Unix; elsewhere the file
/// system journals its directories).
fn sync_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn to_io(e: DatabaseError) -> io::Error {
    match e {
        DatabaseError::Storage(redb::StorageError::Io(e)) => e,
        other => io::Error::other(other.to_string()),
    }
}
