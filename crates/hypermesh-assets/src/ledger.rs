//! Where allocations are recorded: in memory only, or durably in a redb file.
//!
//! redb is an embedded, pure-Rust ACID key-value store: every write transaction is committed
//! copy-on-write with an fsync before `commit` returns (Durability::Immediate), so after a crash
//! at any point the file holds exactly the last committed transaction. The manager acknowledges
//! an allocation only after its commit returned (write-ahead).

use crate::allocation::Allocation;
use crate::error::{Error, Result};
use redb::{Database, DatabaseError, ReadOnlyDatabase, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Allocations by id, serialised as JSON.
const ALLOCATIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("allocations");
/// Counters (`next_id`).
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const NEXT_ID: &str = "next_id";

/// File name of the ledger inside the state directory.
pub const LEDGER_FILE: &str = "assets.redb";

/// The allocation store.
pub enum Ledger {
    /// Nothing kept beyond the process (tests, benchmarks, dry runs).
    Memory,
    /// A redb file; every change is fsync'd before it is acknowledged.
    Durable {
        /// The open database.
        db: Database,
        /// Its path, for messages.
        path: PathBuf,
    },
    /// A redb file opened for reading only (listing without any write or fsync); every change
    /// is refused with [`Error::ReadOnly`].
    ReadOnly {
        /// The open database.
        db: ReadOnlyDatabase,
        /// Its path, for messages.
        path: PathBuf,
    },
}

/// Everything the ledger holds.
#[derive(Debug, Default)]
pub struct Contents {
    /// Recorded allocations, by id.
    pub allocations: Vec<Allocation>,
    /// Next id to hand out.
    pub next_id: u64,
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
}

impl Ledger {
    /// Opens (creating if needed) the ledger file at `path`, and its directory. Fails at once
    /// when another process has it open.
    pub fn open(path: &Path) -> Result<Ledger> {
        Self::open_wait(path, Duration::ZERO)
    }

    /// Like [`Ledger::open`], but while another process holds the ledger, retries for up to
    /// `wait` (each process holds it only for the length of one command).
    pub fn open_wait(path: &Path, wait: Duration) -> Result<Ledger> {
        let err = |source: redb::Error| Error::Ledger { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| err(e.into()))?;
        }
        let db = retry_while_busy(wait, || Database::create(path)).map_err(|e| err(e.into()))?;
        // Create both tables on first use (one fsync'd commit), so readers never meet a missing
        // table; later opens only read.
        let missing = {
            let txn = db.begin_read().map_err(|e| err(e.into()))?;
            matches!(txn.open_table(META), Err(redb::TableError::TableDoesNotExist(_)))
        };
        if missing {
            let txn = db.begin_write().map_err(|e| err(e.into()))?;
            txn.open_table(ALLOCATIONS).map_err(|e| err(e.into()))?;
            txn.open_table(META).map_err(|e| err(e.into()))?;
            txn.commit().map_err(|e| err(e.into()))?;
        }
        Ok(Ledger::Durable { db, path: path.to_path_buf() })
    }

    /// Opens an existing ledger file for reading only, waiting up to `wait` while a writer
    /// holds it.
    pub fn open_read_only(path: &Path, wait: Duration) -> Result<Ledger> {
        let db = retry_while_busy(wait, || ReadOnlyDatabase::open(path))
            .map_err(|e| Error::Ledger { path: path.to_path_buf(), source: e.into() })?;
        Ok(Ledger::ReadOnly { db, path: path.to_path_buf() })
    }

    /// Reads every record.
    pub fn load(&self) -> Result<Contents> {
        match self {
            Ledger::Memory => Ok(Contents::default()),
            Ledger::Durable { db, path } => load_from(db, path),
            Ledger::ReadOnly { db, path } => load_from(db, path),
        }
    }

    /// Applies `change` atomically; returns once it is on disk.
    pub fn apply(&self, change: &Change<'_>) -> Result<()> {
        match self {
            Ledger::Memory => Ok(()),
            Ledger::Durable { db, path } => apply_to(db, path, change),
            Ledger::ReadOnly { path, .. } => Err(Error::ReadOnly(path.clone())),
        }
    }

    /// Where the ledger lives, `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Ledger::Memory => None,
            Ledger::Durable { path, .. } | Ledger::ReadOnly { path, .. } => Some(path),
        }
    }
}

/// Calls `open` until it stops answering "already open" or `wait` has passed.
fn retry_while_busy<T>(
    wait: Duration,
    open: impl Fn() -> Result<T, DatabaseError>,
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

fn load_from(db: &impl ReadableDatabase, path: &Path) -> Result<Contents> {
    let err = |source: redb::Error| Error::Ledger { path: path.to_path_buf(), source };
    let corrupt = |key, message| Error::Corrupt { path: path.to_path_buf(), key, message };
    let txn = db.begin_read().map_err(|e| err(e.into()))?;
    let table = txn.open_table(ALLOCATIONS).map_err(|e| err(e.into()))?;
    let mut contents = Contents::default();
    for entry in table.iter().map_err(|e| err(e.into()))? {
        let (key, value) = entry.map_err(|e| err(e.into()))?;
        let key = key.value();
        let allocation: Allocation =
            serde_json::from_slice(value.value()).map_err(|e| corrupt(key, e.to_string()))?;
        if allocation.id != key {
            return Err(corrupt(key, format!("holds allocation {}", allocation.id)));
        }
        contents.next_id = contents.next_id.max(key + 1);
        contents.allocations.push(allocation);
    }
    let meta = txn.open_table(META).map_err(|e| err(e.into()))?;
    if let Some(next) = meta.get(NEXT_ID).map_err(|e| err(e.into()))? {
        contents.next_id = contents.next_id.max(next.value());
    }
    contents.next_id = contents.next_id.max(1);
    Ok(contents)
}

fn apply_to(db: &Database, path: &Path, change: &Change<'_>) -> Result<()> {
    let err = |source: redb::Error| Error::Ledger { path: path.to_path_buf(), source };
    let txn = db.begin_write().map_err(|e| err(e.into()))?;
    {
        let mut table = txn.open_table(ALLOCATIONS).map_err(|e| err(e.into()))?;
        for allocation in &change.put {
            let bytes = serde_json::to_vec(allocation).map_err(|e| Error::Corrupt {
                path: path.to_path_buf(),
                key: allocation.id,
                message: e.to_string(),
            })?;
            table.insert(allocation.id, bytes.as_slice()).map_err(|e| err(e.into()))?;
        }
        for id in &change.delete {
            table.remove(id).map_err(|e| err(e.into()))?;
        }
        if let Some(next) = change.next_id {
            let mut meta = txn.open_table(META).map_err(|e| err(e.into()))?;
            meta.insert(NEXT_ID, next).map_err(|e| err(e.into()))?;
        }
    }
    txn.commit().map_err(|e| err(e.into()))
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ledger::Memory => f.write_str("Ledger::Memory"),
            Ledger::Durable { path, .. } => write!(f, "Ledger::Durable({})", path.display()),
            Ledger::ReadOnly { path, .. } => write!(f, "Ledger::ReadOnly({})", path.display()),
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
            ledger.apply(&Change { put: vec![&a, &b], delete: vec![], next_id: Some(3) }).unwrap();
            ledger.apply(&Change { put: vec![], delete: vec![2], next_id: None }).unwrap();
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
        assert!(Ledger::open(&path).is_err());
    }
}
