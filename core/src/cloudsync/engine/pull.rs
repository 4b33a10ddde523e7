//! Pull: the cloud's changes since the persisted cursor, applied page by page. A page's rows and
//! the cursor after it commit in one transaction, so a page is either applied and remembered or
//! replayed by the next run (every step is idempotent: a change whose version the row already
//! has is skipped; a file already downloaded has the cloud's hash and is adopted).

use std::collections::HashSet;

use super::folder::Entry;
use super::rows::{cloud_only, in_step, is_in_step, local_new};
use super::{Halt, Run};
use crate::cloudsync::backend::{Change, ChangeKind, ObjectMeta};
use crate::cloudsync::cloud_error::CloudError;
use crate::cloudsync::fetch::{
    discard_partial, fetch_into, FetchControl, GuardedOutcome, PlaceGuard,
};
use crate::cloudsync::progress::SyncState;
use crate::cloudsync::state_db::{Dirty, FileRow, LocalStat, Position, UploadStatus, META_CURSOR};
use crate::error::{Error, ErrorCode, Result};

/// Meta key: a full pull (after an expired cursor) is under way; its end compares rows with the
/// cloud. Kept until that comparison has run, so an interrupted full pull starts over.
const META_CHECKING: &str = "pullChecking";

/// How often a page is planned again when rows keep changing under it (another process).
const PAGE_ATTEMPTS: usize = 4;

/// What to do with one row.
#[derive(Debug)]
pub(super) enum Plan {
    Keep,
    Upsert(FileRow),
    Remove,
}

/// A planned row change: the key, the row it was planned from, the plan.
pub(super) type Planned = (String, Option<FileRow>, Plan);

impl Run<'_> {
    /// Applies every change since the persisted cursor.
    pub(super) fn pull(&mut self) -> std::result::Result<(), Halt> {
        let flagged = self
            .db
            .meta(META_CHECKING)
            .map_err(|e| self.fail(e))?
            .is_some_and(|v| v == "1");
        let mut cursor = if flagged {
            0
        } else {
            self.db
                .meta_i64(META_CURSOR)
                .map_err(|e| self.fail(e))?
                .unwrap_or(0)
                .max(0) as u64
        };
        // A pull from 0 sees every key the cloud has, so it can also tell which rows the cloud
        // lost (a replaced cloud hands out cursors from 0 again).
        let mut checking = flagged || cursor == 0;
        let mut flagged = flagged;
        let mut seen: HashSet<String> = HashSet::new();
        loop {
            self.check()?;
            let page = match self
                .cloud
                .changes_since(self.ns(), cursor, self.tuning.pull_page)
            {
                Ok(p) => p,
                Err(CloudError::CursorExpired { .. }) if cursor != 0 => {
                    // The cloud was replaced or wiped: pull everything, then compare.
                    self.db
                        .write(|tx| tx.set_meta(META_CHECKING, "1"))
                        .map_err(|e| self.fail(e))?;
                    flagged = true;
                    checking = true;
                    cursor = 0;
                    seen.clear();
                    continue;
                }
                Err(e) => return Err(self.fail(e.into())),
            };
            if checking {
                seen.extend(page.changes.iter().map(|c| c.key.clone()));
            }
            if !page.changes.is_empty() || page.cursor != cursor {
                self.apply_page(&page.changes, page.cursor)?;
            }
            (self.ctl.progress)(SyncState::Downloading);
            cursor = page.cursor;
            if !page.has_more {
                break;
            }
        }
        if checking {
            self.reconcile(&seen, flagged)?;
        }
        Ok(())
    }

    /// Applies one page and persists `cursor` with its last rows.
    fn apply_page(&mut self, changes: &[Change], cursor: u64) -> std::result::Result<(), Halt> {
        let mut pending: Vec<&Change> = changes.iter().collect();
        for _ in 0..PAGE_ATTEMPTS {
            let mut plans: Vec<Planned> = Vec::with_capacity(pending.len());
            let mut halt = None;
            for ch in &pending {
                if self.ctl.stop.load(std::sync::atomic::Ordering::Relaxed) {
                    halt = Some(Halt::Stopped);
                    break;
                }
                let basis = self.db.get(&ch.key).map_err(|e| self.fail(e))?;
                let plan = match &ch.kind {
                    ChangeKind::Upsert(meta) => self.plan_upsert(meta, basis.as_ref(), &mut halt),
                    ChangeKind::Delete => self.plan_delete(&ch.key, basis.as_ref()),
                };
                plans.push((ch.key.clone(), basis, plan));
                if halt.is_some() {
                    break;
                }
            }
            let complete = halt.is_none() && plans.len() == pending.len();
            let retry = self.commit(&plans, complete.then_some(cursor))?;
            if let Some(h) = halt {
                return Err(h);
            }
            if retry.is_empty() {
                return Ok(());
            }
            pending = retry.into_iter().map(|i| pending[i]).collect();
        }
        Err(self.fail(Error::new(
            ErrorCode::InnerError,
            "sync state kept changing under the pull; the next run tries again",
        )))
    }

    /// Writes `plans` in one transaction, each only if its row is still the one it was planned
    /// from, and `cursor` when every plan was written. Returns the indexes to plan again.
    pub(super) fn commit(
        &mut self,
        plans: &[Planned],
        cursor: Option<u64>,
    ) -> std::result::Result<Vec<usize>, Halt> {
        let phase = self.phase;
        self.db
            .write(|tx| {
                let mut retry = Vec::new();
                for (i, (key, basis, plan)) in plans.iter().enumerate() {
                    if tx.get(key)? != *basis {
                        retry.push(i);
                        continue;
                    }
                    match plan {
                        Plan::Keep => {}
                        Plan::Upsert(row) => tx.upsert(row)?,
                        Plan::Remove => tx.remove(key)?,
                    }
                }
                if let (true, Some(c)) = (retry.is_empty(), cursor) {
                    tx.set_meta(META_CURSOR, &c.to_string())?;
                }
                Ok(retry)
            })
            .map_err(|e| Halt::from_error(phase, e))
    }

    /// What is at `key` locally; a path that cannot be resolved safely counts as "not a file".
    pub(super) fn entry(&self, key: &str) -> Entry {
        self.folder.entry(key).unwrap_or(Entry::Other)
    }

    /// The cloud created or replaced `meta.key`.
    pub(super) fn plan_upsert(
        &mut self,
        meta: &ObjectMeta,
        basis: Option<&FileRow>,
        halt: &mut Option<Halt>,
    ) -> Plan {
        if let Some(r) = basis {
            if r.cloud_version.as_deref() == Some(meta.version.as_str()) {
                return Plan::Keep; // already applied (or our own upload)
            }
        }
        match (basis, self.entry(&meta.key)) {
            (None, Entry::File(_)) => self.resolve_local(meta, false, halt),
            (None, _) => Plan::Upsert(cloud_only(meta)),
            (Some(r), Entry::File(_)) if r.position == Position::Cloud => {
                self.resolve_local(meta, true, halt)
            }
            (Some(r), Entry::File(stat)) if is_in_step(r, &stat) => {
                self.download_over(meta, stat, halt)
            }
            (Some(_), Entry::File(_)) => self.resolve_local(meta, false, halt),
            // Deleted locally but changed in the cloud: the edit wins, the file comes back as a
            // cloud-only entry.
            (Some(_), _) => Plan::Upsert(cloud_only(meta)),
        }
    }

    /// The local file is in step with the previous version: replace it with the new one, unless
    /// it is edited in the meantime.
    fn download_over(
        &mut self,
        meta: &ObjectMeta,
        stat: LocalStat,
        halt: &mut Option<Halt>,
    ) -> Plan {
        match self.fetch(meta, PlaceGuard::Unchanged(stat)) {
            Ok(GuardedOutcome::Done(st)) => Plan::Upsert(in_step(meta, st, UploadStatus::Unknown)),
            Ok(GuardedOutcome::Stopped) => {
                *halt = Some(Halt::Stopped);
                Plan::Keep
            }
            Ok(GuardedOutcome::LocalChanged) => match self.entry(&meta.key) {
                Entry::File(_) => self.resolve_local(meta, false, halt),
                _ => Plan::Upsert(cloud_only(meta)),
            },
            Err(e) => self.fetch_failed(meta, e, halt, Plan::Keep),
        }
    }

    /// A download failed. Running out of space or network ends the run (`on_fatal` is recorded);
    /// a version that is gone is followed by a newer change (nothing to do); anything else leaves
    /// the file as a cloud-only entry, so the local copy is compared with it by the push.
    fn fetch_failed(
        &self,
        meta: &ObjectMeta,
        e: Error,
        halt: &mut Option<Halt>,
        on_fatal: Plan,
    ) -> Plan {
        match e.code() {
            ErrorCode::NetworkUnavailable | ErrorCode::NoSpace => {
                *halt = Some(self.fail(e));
                on_fatal
            }
            ErrorCode::NoSuchFile => Plan::Keep,
            _ => Plan::Upsert(cloud_only(meta)),
        }
    }

    /// Both sides have content at `meta.key` (the local file changed, or appeared over a
    /// cloud-only entry when `placeholder`). Identical content is no conflict: adopt the cloud
    /// version. Otherwise the local copy moves to `name(n).ext` (a new local file, uploaded by the
    /// push) and the cloud version takes the name: downloaded, or left cloud-only when it was.
    pub(super) fn resolve_local(
        &mut self,
        meta: &ObjectMeta,
        placeholder: bool,
        halt: &mut Option<Halt>,
    ) -> Plan {
        let key = &meta.key;
        match self.folder.sha256_of(key) {
            Ok(Some((sha, now))) if sha.eq_ignore_ascii_case(&meta.sha256) => {
                return Plan::Upsert(in_step(meta, now, UploadStatus::UploadSuccess));
            }
            Ok(Some(_)) => {}
            Ok(None) => return Plan::Upsert(cloud_only(meta)),
            // Unreadable here: still keep it, under the conflict name.
            Err(_) => {}
        }
        if let Err(e) = self.conflict_copy(key) {
            *halt = Some(self.fail(e));
            return Plan::Keep;
        }
        if placeholder {
            return Plan::Upsert(cloud_only(meta));
        }
        match self.fetch(meta, PlaceGuard::Absent) {
            Ok(GuardedOutcome::Done(st)) => Plan::Upsert(in_step(meta, st, UploadStatus::Unknown)),
            Ok(GuardedOutcome::Stopped) => {
                *halt = Some(Halt::Stopped);
                Plan::Upsert(cloud_only(meta))
            }
            Ok(GuardedOutcome::LocalChanged) => Plan::Upsert(cloud_only(meta)),
            Err(e) => self.fetch_failed(meta, e, halt, Plan::Upsert(cloud_only(meta))),
        }
    }

    /// Moves the local file `key` to the first free `name(n).ext` beside it (free: no local
    /// entry, no row, no cloud object) and returns that key.
    fn conflict_copy(&self, key: &str) -> Result<String> {
        for n in 1..=10_000u32 {
            let candidate = conflict_name(key, n);
            if self.folder.entry(&candidate)? != Entry::Absent
                || self.db.get(&candidate)?.is_some()
                || self.cloud.head(self.ns(), &candidate)?.is_some()
            {
                continue;
            }
            if self.folder.rename_noreplace(key, &candidate)? {
                return Ok(candidate);
            }
        }
        Err(Error::new(
            ErrorCode::FileExists,
            format!("no free conflict name for {key}"),
        ))
    }

    /// The cloud deleted `key`.
    fn plan_delete(&mut self, key: &str, basis: Option<&FileRow>) -> Plan {
        let Some(r) = basis else {
            return Plan::Keep; // a local file without a row is new: the push uploads it
        };
        // A kept partial download of it can never complete now.
        let _ = discard_partial(self.device, self.scope, key);
        if r.cloud_version.is_none() {
            return Plan::Keep; // never uploaded from here: not what the cloud deleted
        }
        if r.position == Position::Cloud || r.dirty == Dirty::Deleted {
            return Plan::Remove;
        }
        match self.entry(key) {
            Entry::File(stat) if is_in_step(r, &stat) => {
                match self.folder.remove_if_unchanged(key, &stat) {
                    Ok(true) => {
                        self.folder.prune_empty_parents(key);
                        Plan::Remove
                    }
                    // Edited just now, or not removable: it lives on as a new local file.
                    _ => match self.entry(key) {
                        Entry::File(now) => {
                            Plan::Upsert(local_new(key, now, UploadStatus::ToBeUploaded))
                        }
                        _ => Plan::Remove,
                    },
                }
            }
            // Changed locally: nothing is lost, it is uploaded again as a new file.
            Entry::File(stat) => Plan::Upsert(local_new(key, stat, UploadStatus::ToBeUploaded)),
            _ => Plan::Remove,
        }
    }

    /// After a full pull: rows of files the cloud no longer has at all. A local copy is kept and
    /// uploaded again; cloud-only rows go.
    fn reconcile(
        &mut self,
        seen: &HashSet<String>,
        flagged: bool,
    ) -> std::result::Result<(), Halt> {
        let rows = self.db.load_all().map_err(|e| self.fail(e))?;
        let mut plans: Vec<Planned> = Vec::new();
        for (key, r) in rows {
            if seen.contains(&key) || r.cloud_version.is_none() {
                continue;
            }
            let plan = match (r.position, self.entry(&key)) {
                (Position::Cloud, _) => Plan::Remove,
                (_, Entry::File(stat)) => {
                    Plan::Upsert(local_new(&key, stat, UploadStatus::ToBeUploaded))
                }
                _ => Plan::Remove,
            };
            plans.push((key, Some(r), plan));
        }
        if !plans.is_empty() {
            self.commit(&plans, None)?;
        }
        if flagged {
            self.db
                .write(|tx| tx.set_meta(META_CHECKING, "0"))
                .map_err(|e| self.fail(e))?;
        }
        Ok(())
    }

    /// Downloads `meta` into the folder (stopping with the run).
    pub(super) fn fetch(&self, meta: &ObjectMeta, guard: PlaceGuard) -> Result<GuardedOutcome> {
        let mut progress = |_: u64, _: u64| {};
        let mut ctl = FetchControl {
            stop: self.ctl.stop,
            progress: &mut progress,
        };
        fetch_into(
            self.device,
            self.scope,
            &self.folder,
            self.cloud,
            meta,
            guard,
            &mut ctl,
        )
    }
}

/// `dir/name(n).ext` for `dir/name.ext`; a name without extension (or a dot file) gets `name(n)`.
pub(super) fn conflict_name(key: &str, n: u32) -> String {
    let (dir, name) = match key.rfind('/') {
        Some(i) => key.split_at(i + 1),
        None => ("", key),
    };
    match name.rfind('.') {
        Some(dot) if dot > 0 => format!("{dir}{}({n}){}", &name[..dot], &name[dot..]),
        _ => format!("{dir}{name}({n})"),
    }
}
