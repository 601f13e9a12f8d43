//! Where allocations are recorded: in memory only, or durably in a redb file.
//!
//! redb is an embedded, pure-Rust ACID key-value store. Every write transaction here is
//! committed in two phases with an fsync each (Durability::Immediate, 2-phase commit), so after
//! a crash at any point the file holds exactly the last committed transaction, and a last commit
//! that does not verify is corruption, not a torn write. The manager acknowledges an allocation
//! only after its commit returned (write-ahead).
//!
//! What protects the file:
//! - it is created atomically (temporary file, tables, fsync, link, directory fsync); a file
//!   left empty or all zero by an older version's interrupted creation held nothing and is
//!   created afresh, and said so; any other file that does not open is reported, never reset;
//! - a reader ([`Ledger::snapshot`]) copies the file under redb's shared lock and verifies the
//!   copy in memory: it never writes, not even the repair a crash calls for;
//! - every open verifies every page checksum of the committed trees (in memory), and every
//!   record's own CRC-32 and contents; a writer opens the file only after that passed, so a
//!   ledger that could not be fully validated is never rewritten;
//! - a writer keeps the validated file as `assets.redb.bak` (when it changed) before writing;
//!   [`Ledger::recover`] puts it back, keeping the corrupt file beside it;
//! - every call into redb is behind a panic boundary: a panic on a damaged file is reported as
//!   corruption.

mod record;
mod storage;

pub use record::RecordedAsset;

use crate::allocation::Allocation;
use crate::error::{Error, Result};
use redb::{
    Builder, Database, DatabaseError, ReadableDatabase, ReadableTable, StorageError, TableDefinition,
    TableError,
};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use storage::{CopyError, FileState, guarded};

/// Allocations by id: checksummed JSON records (see `record`).
const ALLOCATIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("allocations");
/// Counters (`next_id`).
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// Assets by id, as a writer last saw them: checksummed JSON [`RecordedAsset`]s.
const ASSETS: TableDefinition<&str, &[u8]> = TableDefinition::new("assets");
const NEXT_ID: &str = "next_id";

/// File name of the ledger inside the state directory.
pub const LEDGER_FILE: &str = "assets.redb";

/// The allocation store.
pub enum Ledger {
    /// Nothing kept beyond the process (tests, benchmarks, dry runs).
    Memory,
    /// A redb file open for writing; every change is fsync'd before it is acknowledged.
    Durable {
        /// The open database.
        db: Database,
        /// Its path, for messages.
        path: PathBuf,
        /// What opening it did that the user should know (a re-created empty file, a backup
        /// that could not be written).
        notes: Vec<String>,
    },
    /// A verified copy of the file taken for reading (nothing was written); every change is
    /// refused with [`Error::ReadOnly`].
    Snapshot {
        /// What the file held.
        contents: Contents,
        /// Its path, for messages.
        path: PathBuf,
    },
}

/// Everything the ledger holds.
#[derive(Debug, Clone, Default)]
pub struct Contents {
    /// Recorded allocations, by id.
    pub allocations: Vec<Allocation>,
    /// Next id to hand out.
    pub next_id: u64,
    /// Assets as writers recorded them.
    pub assets: Vec<RecordedAsset>,
    /// What reading it found worth saying (re-created file, out-of-range deadlines...).
    pub notes: Vec<String>,
}

/// One atomic change.
#[derive(Debug, Default)]
pub struct Change<'a> {
    /// Allocations to write (new or updated).
    pub put: Vec<&'a Allocation>,
    /// Allocation ids to delete.
    pub delete: Vec<u64>,
    /// New value of the id counter.
    pub next_id: Option<u64>,
    /// Asset records to write (new or changed).
    pub record: Vec<RecordedAsset>,
}

/// What [`Ledger::recover`] puts in place of a corrupt ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// The backup a writer kept (`assets.redb.bak`), once it verifies.
    Backup,
    /// An empty ledger: every allocation is forgotten (the operator's call).
    Empty,
}

impl Ledger {
    /// Opens the ledger file at `path` for writing, creating it (and its directory) if needed.
    /// Fails at once when another process has it open.
    pub fn open(path: &Path) -> Result<Ledger> {
        Self::open_wait(path, Duration::ZERO)
    }

    /// Like [`Ledger::open`], but while another process holds the ledger, retries for up to
    /// `wait` (each process holds it only for the length of one command).
    pub fn open_wait(path: &Path, wait: Duration) -> Result<Ledger> {
        let io = |source| Error::Io { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut notes = Vec::new();
        match storage::file_state(path).map_err(io)? {
            FileState::Missing => {
                storage::create_atomically(path, init_tables).map_err(io)?;
            }
            FileState::NeverCommitted => {
                if storage::replace_never_committed(path, init_tables).map_err(io)? {
                    notes.push(format!(
                        "{} was empty or all zero (an interrupted creation that never committed anything): \
                         created it afresh",
                        path.display()
                    ));
                }
            }
            FileState::Present => {}
        }
        // Validate everything before the file is opened for writing.
        let (snapshot, bytes) = read_snapshot(path, wait)?;
        let db = storage::retry_while_busy(wait, || {
            guarded(|| Builder::new().open(path))
                .unwrap_or_else(|panic| Err(DatabaseError::Storage(StorageError::Corrupted(panic))))
        })
        .map_err(|e| database_error(path, e))?;
        notes.extend(snapshot.notes.into_iter().filter(|n| !n.starts_with("allocation ")));
        storage::remove_stale_temporaries(path);
        storage::remove_stale_temporaries(&backup_path(path));
        let backup = backup_path(path);
        if std::fs::read(&backup).ok().as_deref() != Some(bytes.as_slice())
            && let Err(e) = storage::write_atomically(&backup, &bytes)
        {
            notes.push(format!("could not keep a backup of the ledger in {}: {e}", backup.display()));
        }
        Ok(Ledger::Durable { db, path: path.to_path_buf(), notes })
    }

    /// Reads the ledger at `path` without writing anything: a verified copy taken under the
    /// ledger's shared lock (waiting up to `wait` for a writer). A missing or never-committed
    /// file reads as an empty ledger (the latter with a note).
    pub fn snapshot(path: &Path, wait: Duration) -> Result<Ledger> {
        let io = |source| Error::Io { path: path.to_path_buf(), source };
        let contents = match storage::file_state(path).map_err(io)? {
            FileState::Missing => Contents { next_id: 1, ..Contents::default() },
            FileState::NeverCommitted => Contents {
                next_id: 1,
                notes: vec![format!(
                    "{} is empty or all zero (an interrupted creation that never committed anything): \
                     no allocations; the next allocation creates it afresh",
                    path.display()
                )],
                ..Contents::default()
            },
            FileState::Present => read_snapshot(path, wait)?.0,
        };
        Ok(Ledger::Snapshot { contents, path: path.to_path_buf() })
    }

    /// Replaces a corrupt (or missing) ledger at `path` by its verified backup or by an empty
    /// ledger, keeping the corrupt file as `assets.redb.corrupt-SECONDS`. Refuses when the
    /// ledger verifies. Returns what the new ledger holds. Run it with no allocating process
    /// about (it waits up to `wait` for one that holds the ledger).
    pub fn recover(path: &Path, how: Recovery, wait: Duration) -> Result<Contents> {
        let io = |source| Error::Io { path: path.to_path_buf(), source };
        let state = storage::file_state(path).map_err(io)?;
        if state == FileState::Present {
            match read_snapshot(path, wait) {
                Ok(_) => {
                    return Err(Error::Invalid(format!(
                        "ledger {} verifies: there is nothing to recover",
                        path.display()
                    )));
                }
                Err(Error::Corrupt { .. }) => {}
                Err(other) => return Err(other),
            }
        }
        let replacement = match how {
            Recovery::Backup => {
                let backup = backup_path(path);
                let bytes =
                    std::fs::read(&backup).map_err(|source| Error::Io { path: backup.clone(), source })?;
                verify_image(&backup, bytes.clone())
                    .map_err(|e| Error::Invalid(format!("the backup cannot be used: {e}")))?;
                storage::temporary_copy(path, &bytes).map_err(io)?
            }
            Recovery::Empty => storage::temporary_ledger(path, init_tables).map_err(io)?,
        };
        let aside = (state == FileState::Present).then(|| {
            let secs = crate::allocation::now_ms() / 1000;
            (0..)
                .map(|n| match n {
                    0 => path.with_file_name(format!("{LEDGER_FILE}.corrupt-{secs}")),
                    n => path.with_file_name(format!("{LEDGER_FILE}.corrupt-{secs}.{n}")),
                })
                .find(|p| !p.exists())
                .unwrap_or_default()
        });
        storage::install(path, &replacement, aside.as_deref()).map_err(io)?;
        let mut contents = read_snapshot(path, wait)?.0;
        if let Some(aside) = aside {
            contents.notes.push(format!("the corrupt ledger was kept as {}", aside.display()));
        }
        Ok(contents)
    }

    /// Reads every record, verified.
    pub fn load(&self) -> Result<Contents> {
        match self {
            Ledger::Memory => Ok(Contents { next_id: 1, ..Contents::default() }),
            Ledger::Durable { db, path, notes } => {
                let mut contents = read_contents_guarded(db, path)?;
                contents.notes.splice(0..0, notes.iter().cloned());
                Ok(contents)
            }
            Ledger::Snapshot { contents, .. } => Ok(contents.clone()),
        }
    }

    /// Applies `change` atomically; returns once it is on disk.
    pub fn apply(&self, change: &Change<'_>) -> Result<()> {
        match self {
            Ledger::Memory => Ok(()),
            Ledger::Durable { db, path, .. } => guarded(|| apply_to(db, path, change))
                .unwrap_or_else(|panic| Err(Error::Corrupt { path: path.clone(), message: panic })),
            Ledger::Snapshot { path, .. } => Err(Error::ReadOnly(path.clone())),
        }
    }

    /// Where the ledger lives, `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Ledger::Memory => None,
            Ledger::Durable { path, .. } | Ledger::Snapshot { path, .. } => Some(path),
        }
    }
}

/// Where a writer keeps the last ledger it validated: `assets.redb.bak` beside it.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".bak");
    path.with_file_name(name)
}

/// Creates the tables of a new ledger (one 2-phase commit).
fn init_tables(db: &Database) -> Result<(), String> {
    let mut txn = db.begin_write().map_err(|e| e.to_string())?;
    txn.set_two_phase_commit(true);
    txn.open_table(ALLOCATIONS).map_err(|e| e.to_string())?;
    txn.open_table(META).map_err(|e| e.to_string())?;
    txn.open_table(ASSETS).map_err(|e| e.to_string())?;
    txn.commit().map_err(|e| e.to_string())
}

/// A verified copy of the file at `path` and its bytes.
fn read_snapshot(path: &Path, wait: Duration) -> Result<(Contents, Vec<u8>)> {
    let bytes = storage::copy_under_lock(path, wait).map_err(|e| match e {
        CopyError::Open(e) => database_error(path, e),
        CopyError::Io(source) => Error::Io { path: path.to_path_buf(), source },
        CopyError::Panic(message) => Error::Corrupt { path: path.to_path_buf(), message },
    })?;
    let contents = verify_image(path, bytes.clone())?;
    Ok((contents, bytes))
}

/// Opens `bytes` in memory with redb's full check and reads every record, verified.
fn verify_image(path: &Path, bytes: Vec<u8>) -> Result<Contents> {
    let corrupt = |message| Error::Corrupt { path: path.to_path_buf(), message };
    let fell_back = Arc::new(Mutex::new(false));
    let db = guarded(|| storage::open_image(bytes, fell_back.clone()))
        .map_err(corrupt)?
        .map_err(|e| corrupt(e.to_string()))?;
    // In memory, every failure is the content's.
    let mut contents = read_contents_guarded(&db, path).map_err(|e| match e {
        Error::Ledger { source, .. } => corrupt(source.to_string()),
        other => other,
    })?;
    if *fell_back.lock().unwrap_or_else(PoisonError::into_inner) {
        contents.notes.push(format!(
            "{}: the last commit did not verify and the one before it was used (a commit of an \
             older version cut short by a crash, or damage)",
            path.display()
        ));
    }
    Ok(contents)
}

fn read_contents_guarded(db: &impl ReadableDatabase, path: &Path) -> Result<Contents> {
    guarded(|| read_contents(db, path))
        .unwrap_or_else(|panic| Err(Error::Corrupt { path: path.to_path_buf(), message: panic }))
}

fn read_contents(db: &impl ReadableDatabase, path: &Path) -> Result<Contents> {
    let err = |source: redb::Error| Error::Ledger { path: path.to_path_buf(), source };
    let corrupt = |message: String| Error::Corrupt { path: path.to_path_buf(), message };
    let txn = db.begin_read().map_err(|e| err(e.into()))?;
    let mut contents = Contents::default();
    // A ledger whose creation never committed has no tables: it holds nothing.
    match txn.open_table(ALLOCATIONS) {
        Ok(table) => {
            for entry in table.iter().map_err(|e| err(e.into()))? {
                let (key, value) = entry.map_err(|e| err(e.into()))?;
                let key = key.value();
                let allocation: Allocation = record::decode(value.value())
                    .and_then(|a| record::check_allocation(&a, key).map(|()| a))
                    .map_err(|m| corrupt(format!("allocation record {key}: {m}")))?;
                contents.notes.extend(record::deadline_note(&allocation));
                contents.next_id = contents.next_id.max(key.saturating_add(1));
                contents.allocations.push(allocation);
            }
        }
        Err(TableError::TableDoesNotExist(_)) => {}
        Err(e) => return Err(err(e.into())),
    }
    match txn.open_table(META) {
        Ok(meta) => {
            if let Some(next) = meta.get(NEXT_ID).map_err(|e| err(e.into()))? {
                contents.next_id = contents.next_id.max(next.value());
            }
        }
        Err(TableError::TableDoesNotExist(_)) => {}
        Err(e) => return Err(err(e.into())),
    }
    match txn.open_table(ASSETS) {
        Ok(table) => {
            for entry in table.iter().map_err(|e| err(e.into()))? {
                let (key, value) = entry.map_err(|e| err(e.into()))?;
                let key = key.value();
                let asset: RecordedAsset = record::decode(value.value())
                    .and_then(|r| record::check_asset(&r, key).map(|()| r))
                    .map_err(|m| corrupt(format!("asset record {key:?}: {m}")))?;
                contents.assets.push(asset);
            }
        }
        Err(TableError::TableDoesNotExist(_)) => {}
        Err(e) => return Err(err(e.into())),
    }
    contents.next_id = contents.next_id.max(1);
    Ok(contents)
}

fn apply_to(db: &Database, path: &Path, change: &Change<'_>) -> Result<()> {
    let err = |source: redb::Error| Error::Ledger { path: path.to_path_buf(), source };
    let invalid = |e: String| Error::Invalid(format!("cannot store the record: {e}"));
    let mut txn = db.begin_write().map_err(|e| err(e.into()))?;
    txn.set_two_phase_commit(true);
    {
        let mut table = txn.open_table(ALLOCATIONS).map_err(|e| err(e.into()))?;
        for allocation in &change.put {
            let bytes = record::encode(allocation).map_err(invalid)?;
            table.insert(allocation.id, bytes.as_slice()).map_err(|e| err(e.into()))?;
        }
        for id in &change.delete {
            table.remove(id).map_err(|e| err(e.into()))?;
        }
        if let Some(next) = change.next_id {
            let mut meta = txn.open_table(META).map_err(|e| err(e.into()))?;
            meta.insert(NEXT_ID, next).map_err(|e| err(e.into()))?;
        }
        if !change.record.is_empty() {
            let mut assets = txn.open_table(ASSETS).map_err(|e| err(e.into()))?;
            for asset in &change.record {
                let bytes = record::encode(asset).map_err(invalid)?;
                assets.insert(asset.id.as_str(), bytes.as_slice()).map_err(|e| err(e.into()))?;
            }
        }
    }
    txn.commit().map_err(|e| err(e.into()))
}

/// A redb open error as this crate's: damage is [`Error::Corrupt`], the rest (busy, I/O) is
/// [`Error::Ledger`].
fn database_error(path: &Path, e: DatabaseError) -> Error {
    match e {
        DatabaseError::Storage(StorageError::Corrupted(message)) => {
            Error::Corrupt { path: path.to_path_buf(), message }
        }
        DatabaseError::Storage(StorageError::Io(io)) if io.kind() == std::io::ErrorKind::InvalidData => {
            Error::Corrupt { path: path.to_path_buf(), message: io.to_string() }
        }
        other => Error::Ledger { path: path.to_path_buf(), source: other.into() },
    }
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ledger::Memory => f.write_str("Ledger::Memory"),
            Ledger::Durable { path, .. } => write!(f, "Ledger::Durable({})", path.display()),
            Ledger::Snapshot { path, .. } => write!(f, "Ledger::Snapshot({})", path.display()),
        }
    }
}

/// Default state directory: /var/lib/hypermesh as root on Linux, else `$XDG_STATE_HOME/hypermesh`, else
/// `~/.local/state/hypermesh`; `None` when none of these can be named.
pub fn default_state_dir() -> Option<PathBuf> {
    #[cfg(native_linux)]
    if rustix::process::geteuid().is_root() {
        return Some(PathBuf::from("/var/lib/hypermesh"));
    }
    let absolute = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME").and_then(absolute) {
        return Some(dir.join("hypermesh"));
    }
    std::env::var_os("HOME").and_then(absolute).map(|home| home.join(".local/state/hypermesh"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocation::{AllocationState, Part};
    use crate::kind::{AssetKind, SharingLevel};

    fn allocation(id: u64) -> Allocation {
        Allocation {
            id,
            holder: format!("job-{id}"),
            kind: AssetKind::Gpu,
            parts: vec![Part { asset: "gpu:pci-0000:01:00.0".into(), amount: 1 }],
            scope: SharingLevel::Private,
            created_ms: 1,
            expires_ms: 2,
            state: AllocationState::Active,
        }
    }

    #[test]
    fn records_survive_reopening_and_ids_are_not_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(LEDGER_FILE);
        {
            let ledger = Ledger::open(&path).unwrap();
            assert_eq!(ledger.load().unwrap().next_id, 1);
            let (a, b) = (allocation(1), allocation(2));
            ledger.apply(&Change { put: vec![&a, &b], next_id: Some(3), ..Change::default() }).unwrap();
            ledger.apply(&Change { delete: vec![2], ..Change::default() }).unwrap();
        }
        let ledger = Ledger::open(&path).unwrap();
        let contents = ledger.load().unwrap();
        assert_eq!(contents.allocations, vec![allocation(1)]);
        assert_eq!(contents.next_id, 3, "the id of a released allocation is not handed out again");
    }

    #[test]
    fn a_second_opener_is_told_the_ledger_is_busy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LEDGER_FILE);
        let _first = Ledger::open(&path).unwrap();
        let second = Ledger::open(&path).unwrap_err();
        assert!(second.to_string().contains(&path.display().to_string()), "{second}");
    }

    #[test]
    fn a_waiting_opener_gets_the_ledger_once_the_holder_closes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LEDGER_FILE);
        let first = Ledger::open(&path).unwrap();
        let holder = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(first);
        });
        let second = Ledger::open_wait(&path, Duration::from_secs(30));
        holder.join().unwrap();
        assert!(second.is_ok(), "{second:?}");
    }

    #[test]
    fn a_garbage_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LEDGER_FILE);
        std::fs::write(&path, b"this is not a redb file, just some text of some length ....").unwrap();
        let err = Ledger::open(&path).unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }), "{err}");
        assert!(matches!(Ledger::snapshot(&path, Duration::ZERO), Err(Error::Corrupt { .. })));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"this is not a redb file, just some text of some length ...."
        );
    }

    #[test]
    fn a_snapshot_of_a_missing_ledger_is_empty_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(LEDGER_FILE);
        let contents = Ledger::snapshot(&path, Duration::ZERO).unwrap().load().unwrap();
        assert!(contents.allocations.is_empty());
        assert!(!dir.path().join("sub").exists(), "a read creates nothing");
    }

    #[test]
    fn an_all_zero_file_never_committed_is_created_afresh_and_said_so() {
        for len in [0usize, 4096, 1 << 20] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(LEDGER_FILE);
            std::fs::write(&path, vec![0u8; len]).unwrap();
            let read = Ledger::snapshot(&path, Duration::ZERO).unwrap().load().unwrap();
            assert!(read.notes[0].contains("never committed anything"), "{:?}", read.notes);
            assert_eq!(std::fs::read(&path).unwrap().len(), len, "reading left it as it was");
            let ledger = Ledger::open(&path).unwrap();
            let contents = ledger.load().unwrap();
            assert!(contents.notes[0].contains("created it afresh"), "{:?}", contents.notes);
            let a = allocation(1);
            ledger.apply(&Change { put: vec![&a], next_id: Some(2), ..Change::default() }).unwrap();
            drop(ledger);
            assert_eq!(Ledger::open(&path).unwrap().load().unwrap().allocations, vec![a]);
        }
    }

    #[test]
    fn a_writer_keeps_a_backup_and_recover_puts_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LEDGER_FILE);
        let a = allocation(1);
        {
            let ledger = Ledger::open(&path).unwrap();
            ledger.apply(&Change { put: vec![&a], next_id: Some(2), ..Change::default() }).unwrap();
        }
        // The next writer validates that state and keeps it.
        drop(Ledger::open(&path).unwrap());
        let wait = Duration::ZERO;
        assert!(matches!(Ledger::recover(&path, Recovery::Backup, wait), Err(Error::Invalid(_))));
        std::fs::write(&path, b"garbage, not a ledger").unwrap();
        let restored = Ledger::recover(&path, Recovery::Backup, wait).unwrap();
        assert_eq!(restored.allocations, vec![a]);
        assert!(restored.notes[0].contains("corrupt ledger was kept as"), "{:?}", restored.notes);
        let kept: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("assets.redb.corrupt-"))
            .collect();
        assert_eq!(kept.len(), 1);
        assert_eq!(std::fs::read(dir.path().join(&kept[0])).unwrap(), b"garbage, not a ledger");
        std::fs::write(&path, b"garbage again").unwrap();
        std::fs::remove_file(backup_path(&path)).unwrap();
        assert!(Ledger::recover(&path, Recovery::Backup, wait).is_err());
        assert!(Ledger::recover(&path, Recovery::Empty, wait).unwrap().allocations.is_empty());
    }
}
