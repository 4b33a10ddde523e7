//! The result of the last sync per (app, bucket), in `<root>/state/asset/sync.db`.

use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::asset::db::db_error;
use crate::asset::value::SyncResult;
use crate::device::Device;
use crate::error::Result;

/// One bucket's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BucketResult {
    pub bucket: String,
    pub result_code: i32,
    pub total: u32,
    pub failed: u32,
}

pub(crate) struct SyncResults {
    conn: Connection,
}

impl SyncResults {
    pub fn open(device: &Device) -> Result<SyncResults> {
        let path = device.state_subdir("asset")?.join("sync.db");
        let conn = Connection::open(path).map_err(db_error)?;
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(db_error)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS sync_result (
                owner TEXT NOT NULL,
                bucket TEXT NOT NULL,
                result_code INTEGER NOT NULL,
                total INTEGER NOT NULL,
                failed INTEGER NOT NULL,
                finished_ms INTEGER NOT NULL,
                PRIMARY KEY (owner, bucket))",
        )
        .map_err(db_error)?;
        Ok(SyncResults { conn })
    }

    /// The last result of `owner`'s `bucket`.
    pub fn get(&self, owner: &str, bucket: &str) -> Result<Option<SyncResult>> {
        self.conn
            .query_row(
                "SELECT result_code, total, failed FROM sync_result WHERE owner = ? AND bucket = ?",
                params![owner, bucket],
                |r| Ok(SyncResult::new(r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(db_error)
    }

    /// Records a sync of `owner`: its results replace every earlier one of that owner (a bucket
    /// the new sync did not carry had nothing to sync).
    pub fn record(&mut self, owner: &str, results: &[BucketResult], now_ms: u64) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_error)?;
        tx.execute("DELETE FROM sync_result WHERE owner = ?", [owner])
            .map_err(db_error)?;
        for r in results {
            tx.execute(
                "INSERT OR REPLACE INTO sync_result VALUES (?, ?, ?, ?, ?, ?)",
                params![
                    owner,
                    r.bucket,
                    r.result_code,
                    r.total,
                    r.failed,
                    now_ms as i64
                ],
            )
            .map_err(db_error)?;
        }
        tx.commit().map_err(db_error)
    }
}
