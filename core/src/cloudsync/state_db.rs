//! Per-file sync state, one SQLite database per synced folder under
//! `state/cloudsync/<namespace>.db` (WAL, so a download in one process and a sync run in another
//! can both write). The columns follow OpenHarmony's `CloudDisk` table: position, dirty kind,
//! upload status (`file_status`), cloud version, sha256, size and edit time — plus the stat of
//! the local file when it was last known to be in step, which is how a scan without a FUSE layer
//! tells a local edit from an untouched file.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::scope::SyncScope;
use crate::device::Device;
use crate::error::{Error, ErrorCode, Result};

/// Meta key: the change-feed cursor after the last applied pull.
pub const META_CURSOR: &str = "cursor";
/// Meta key: ms since the epoch of the last run that completed with NO_ERROR.
pub const META_LAST_SYNC_TIME: &str = "lastSyncTime";

/// Where a file's content is (OpenHarmony's `position`).
#[repr(i64)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Position {
    /// Only on this device (never uploaded).
    Local = 1,
    /// Only in the cloud: a placeholder, no local file.
    Cloud = 2,
    /// Both, in step.
    Both = 3,
}

/// What is pending for a file (OpenHarmony's `dirty_type`).
#[repr(i64)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dirty {
    Synced = 0,
    /// Created locally, not in the cloud yet.
    New = 1,
    /// Content changed locally since the cloud version.
    Modified = 3,
    /// Deleted locally; the cloud object is still to be deleted.
    Deleted = 4,
}

/// The upload status (OpenHarmony's `file_status`), which `getFileSyncState` maps.
#[repr(i64)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UploadStatus {
    ToBeUploaded = 0,
    Uploading = 1,
    UploadFailure = 2,
    UploadSuccess = 3,
    /// Nothing to report: a file that came from the cloud.
    Unknown = 4,
}

/// The stat of a local file when it was in step with its row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LocalStat {
    pub size: u64,
    pub mtime_ns: i64,
    pub ino: u64,
}

impl LocalStat {
    /// The stat of `meta` (from a `symlink_metadata`/`fstat`).
    pub fn of(meta: &std::fs::Metadata) -> LocalStat {
        use std::os::unix::fs::MetadataExt;
        LocalStat {
            size: meta.len(),
            mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            ino: meta.ino(),
        }
    }
}

/// One file's record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRow {
    /// Relative path in the synced folder (`/` separators) = the cloud key.
    pub path: String,
    pub position: Position,
    pub dirty: Dirty,
    pub upload: UploadStatus,
    /// The cloud version this row is in step with (`None`: never uploaded).
    pub cloud_version: Option<String>,
    /// SHA-256 (upper-case hex) of that version's content, when known.
    pub sha256: Option<String>,
    /// Size of the content in bytes (the true size of a cloud-only file).
    pub size: u64,
    /// Edit time in ms since the epoch.
    pub mtime_ms: i64,
    /// The local file's stat when it was last in step; `None` when there is no local file.
    pub local: Option<LocalStat>,
}

/// The columns `row_from` reads, in its order: it reads by index, because looking columns up by
/// name cost more than the rest of a no-change scan.
macro_rules! columns {
    () => {
        "path, position, dirty, file_status, cloud_version, sha256, size, mtime_ms, local_size, \
         local_mtime_ns, local_ino"
    };
}

/// The state database of one synced folder.
pub struct StateDb {
    conn: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY NOT NULL,
    position INTEGER NOT NULL,
    dirty INTEGER NOT NULL,
    file_status INTEGER NOT NULL,
    cloud_version TEXT,
    sha256 TEXT,
    size INTEGER NOT NULL,
    mtime_ms INTEGER NOT NULL,
    local_size INTEGER,
    local_mtime_ns INTEGER,
    local_ino INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
";

fn db_error(e: rusqlite::Error) -> Error {
    Error::new(ErrorCode::InnerError, format!("sync state database: {e}"))
}

impl StateDb {
    /// The database file of `scope` on `device`.
    pub fn path(device: &Device, scope: &SyncScope) -> Result<PathBuf> {
        Ok(device
            .state_subdir("cloudsync")?
            .join(format!("{}.db", scope.namespace())))
    }

    /// Opens (creating as needed) the state of `scope`.
    pub fn open(device: &Device, scope: &SyncScope) -> Result<StateDb> {
        let path = StateDb::path(device, scope)?;
        let conn = Connection::open(&path).map_err(db_error)?;
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(db_error)?;
        // WAL: readers never block the writer; NORMAL sync is durable at checkpoints and never
        // corrupts — a crash loses at most the last transactions, which the next scan redoes.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_error)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db_error)?;
        conn.execute_batch(SCHEMA).map_err(db_error)?;
        Ok(StateDb { conn })
    }

    /// One file's row.
    pub fn get(&self, path: &str) -> Result<Option<FileRow>> {
        get_row(&self.conn, path)
    }

    /// Every row, keyed by path.
    pub fn load_all(&self) -> Result<HashMap<String, FileRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(concat!("SELECT ", columns!(), " FROM files"))
            .map_err(db_error)?;
        let rows = stmt.query_map([], row_from).map_err(db_error)?;
        let mut out = HashMap::new();
        for r in rows {
            let r = r.map_err(db_error)?;
            out.insert(r.path.clone(), r);
        }
        Ok(out)
    }

    /// A meta value.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(db_error)
    }

    /// A meta value parsed as an integer (`None` when absent or not a number).
    pub fn meta_i64(&self, key: &str) -> Result<Option<i64>> {
        Ok(self.meta(key)?.and_then(|v| v.parse().ok()))
    }

    /// Runs `f` in one write transaction (committed when `f` returns `Ok`): how the engine
    /// batches its writes.
    pub fn write<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db_error)?;
        let out = f(&Tx { tx: &tx })?;
        tx.commit().map_err(db_error)?;
        Ok(out)
    }
}

/// A write transaction on a [`StateDb`].
pub struct Tx<'a> {
    tx: &'a rusqlite::Transaction<'a>,
}

impl Tx<'_> {
    /// Inserts or replaces `row`.
    pub fn upsert(&self, row: &FileRow) -> Result<()> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "INSERT OR REPLACE INTO files (path, position, dirty, file_status, cloud_version, \
                 sha256, size, mtime_ms, local_size, local_mtime_ns, local_ino) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .map_err(db_error)?;
        stmt.execute(params![
            row.path,
            row.position as i64,
            row.dirty as i64,
            row.upload as i64,
            row.cloud_version,
            row.sha256,
            row.size as i64,
            row.mtime_ms,
            row.local.map(|l| l.size as i64),
            row.local.map(|l| l.mtime_ns),
            row.local.map(|l| l.ino as i64),
        ])
        .map_err(db_error)?;
        Ok(())
    }

    /// Removes the row of `path` (absent is fine).
    pub fn remove(&self, path: &str) -> Result<()> {
        let mut stmt = self
            .tx
            .prepare_cached("DELETE FROM files WHERE path = ?1")
            .map_err(db_error)?;
        stmt.execute([path]).map_err(db_error)?;
        Ok(())
    }

    /// One row, as this transaction sees it.
    pub fn get(&self, path: &str) -> Result<Option<FileRow>> {
        get_row(self.tx, path)
    }

    /// Sets a meta value.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.tx
            .execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
                [key, value],
            )
            .map_err(db_error)?;
        Ok(())
    }
}

fn get_row(conn: &Connection, path: &str) -> Result<Option<FileRow>> {
    let mut stmt = conn
        .prepare_cached(concat!(
            "SELECT ",
            columns!(),
            " FROM files WHERE path = ?1"
        ))
        .map_err(db_error)?;
    stmt.query_row([path], row_from)
        .optional()
        .map_err(db_error)
}

fn row_from(r: &Row<'_>) -> rusqlite::Result<FileRow> {
    let position = match r.get::<_, i64>(1)? {
        1 => Position::Local,
        2 => Position::Cloud,
        _ => Position::Both,
    };
    let dirty = match r.get::<_, i64>(2)? {
        0 => Dirty::Synced,
        1 => Dirty::New,
        4 => Dirty::Deleted,
        _ => Dirty::Modified,
    };
    let upload = match r.get::<_, i64>(3)? {
        0 => UploadStatus::ToBeUploaded,
        1 => UploadStatus::Uploading,
        2 => UploadStatus::UploadFailure,
        3 => UploadStatus::UploadSuccess,
        _ => UploadStatus::Unknown,
    };
    let local_size: Option<i64> = r.get(8)?;
    let local = match local_size {
        Some(size) => Some(LocalStat {
            size: size as u64,
            mtime_ns: r.get::<_, Option<i64>>(9)?.unwrap_or(0),
            ino: r.get::<_, Option<i64>>(10)?.unwrap_or(0) as u64,
        }),
        None => None,
    };
    Ok(FileRow {
        path: r.get(0)?,
        position,
        dirty,
        upload,
        cloud_version: r.get(4)?,
        sha256: r.get(5)?,
        size: r.get::<_, i64>(6)? as u64,
        mtime_ms: r.get(7)?,
        local,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_meta_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let device = Device::open(Some(dir.path())).unwrap();
        let scope = SyncScope::Gallery;
        let row = FileRow {
            path: "a/b.jpg".into(),
            position: Position::Both,
            dirty: Dirty::Synced,
            upload: UploadStatus::UploadSuccess,
            cloud_version: Some("v1".into()),
            sha256: Some("AB".into()),
            size: 3,
            mtime_ms: 1000,
            local: Some(LocalStat {
                size: 3,
                mtime_ns: 1_000_000_000,
                ino: 7,
            }),
        };
        {
            let mut db = StateDb::open(&device, &scope).unwrap();
            db.write(|tx| {
                tx.upsert(&row)?;
                tx.set_meta(META_CURSOR, "42")
            })
            .unwrap();
            let r: Result<()> = db.write(|tx| {
                tx.remove("a/b.jpg")?;
                Err(Error::new(ErrorCode::InnerError, "rolled back"))
            });
            assert!(r.is_err());
        }
        let db = StateDb::open(&device, &scope).unwrap();
        assert_eq!(db.get("a/b.jpg").unwrap(), Some(row.clone()));
        assert_eq!(db.load_all().unwrap().len(), 1);
        assert_eq!(db.meta_i64(META_CURSOR).unwrap(), Some(42));
        assert_eq!(db.meta_i64(META_LAST_SYNC_TIME).unwrap(), None);
    }
}
