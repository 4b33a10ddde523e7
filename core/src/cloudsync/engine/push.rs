//! Push: scan the folder, compare with the rows in memory, upload new and changed files (several
//! in flight) and delete the cloud objects of deleted ones. Every put and delete is conditional
//! on the version the row knows, so an upload never overwrites a change it has not seen; a lost
//! condition leaves the file dirty and asks the run for another pull + push round.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use super::folder::{Entry, SyncedFolder};
use super::pull::{Plan, Planned};
use super::rows::{in_step, is_in_step, local_new, meta_of};
use super::{Halt, Run, Tuning};
use crate::cloudsync::backend::{
    CloudBackend, DeleteCondition, ObjectMeta, PutCondition, PutOptions,
};
use crate::cloudsync::cloud_error::CloudError;
use crate::cloudsync::conditions::Conditions;
use crate::cloudsync::progress::{SyncErrorType, SyncState};
use crate::cloudsync::scope::SyncScope;
use crate::cloudsync::state_db::{Dirty, FileRow, LocalStat, Position, UploadStatus};
use crate::device::Device;
use crate::error::{Error, ErrorCode};

/// How often (ms) the uploaders look at the device conditions between files.
const CONDITIONS_EVERY_MS: u64 = 100;

/// One thing to do in the cloud.
#[derive(Clone, Debug)]
enum Job {
    Upload {
        key: String,
        stat: LocalStat,
        condition: PutCondition,
    },
    Delete {
        key: String,
        version: String,
    },
}

impl Job {
    fn key(&self) -> &str {
        match self {
            Job::Upload { key, .. } | Job::Delete { key, .. } => key,
        }
    }
}

/// Jobs with the rows they were planned from.
type Jobs = Vec<(Job, Option<FileRow>)>;

/// How one job went.
#[derive(Debug)]
enum Outcome {
    Uploaded {
        meta: ObjectMeta,
        /// The stat of the file as it was opened for the upload.
        stat: LocalStat,
        /// The file changed while it was read: it stays dirty.
        changed: bool,
    },
    Deleted,
    /// A put/delete condition failed: the cloud moved on.
    Lost,
    /// The file went away before it could be read.
    Vanished,
    /// This file failed; the others go on.
    Failed,
    /// The run has to end (cloud full, network gone).
    Fatal(Error),
    /// Not started (stop, or a fatal error elsewhere).
    Skipped,
}

/// A job accepted for a batch: the row it was planned from, and the row marking it in flight.
struct Accepted {
    job: Job,
    basis: Option<FileRow>,
    marked: FileRow,
}

impl Run<'_> {
    /// Pushes local changes. `Ok(true)`: the cloud changed (something was sent, or a condition
    /// was lost), so another pull is due: it folds this device's own changes into the cursor (the
    /// next run then has nothing to replay) and settles what the lost conditions were about.
    pub(super) fn push(&mut self) -> std::result::Result<bool, Halt> {
        let (jobs, forget, adopt) = self.plan_push()?;
        if !adopt.is_empty() {
            // Local files over cloud-only entries: settle them, then look again (a conflict copy
            // is a new file to upload).
            self.adopt(adopt)?;
            let (jobs, forget, _) = self.plan_push()?;
            return self.push_jobs(jobs, forget);
        }
        self.push_jobs(jobs, forget)
    }

    /// Compares the folder with the rows: the jobs (sorted by key), the rows of never-uploaded
    /// files that are gone, and local files sitting over cloud-only entries.
    fn plan_push(&mut self) -> std::result::Result<(Jobs, Vec<FileRow>, Vec<FileRow>), Halt> {
        // The scan waits on the filesystem, loading the rows on SQLite: do both at once.
        let (folder, db) = (&self.folder, &self.db);
        let (rows, files) = std::thread::scope(|s| {
            let scan = s.spawn(|| folder.scan());
            let rows = db.load_all();
            let files = scan.join().unwrap_or_else(|_| {
                Err(Error::new(
                    ErrorCode::InnerError,
                    "the folder scan panicked",
                ))
            });
            (rows, files)
        });
        let mut rows: HashMap<String, FileRow> = rows.map_err(|e| self.fail(e))?;
        let files = files.map_err(|e| self.fail(e))?;
        let mut jobs = Vec::new();
        let mut adopt = Vec::new();
        for (key, stat) in files {
            match rows.remove(&key) {
                None => jobs.push((
                    Job::Upload {
                        key,
                        stat,
                        condition: PutCondition::IfAbsent,
                    },
                    None,
                )),
                Some(r) if r.position == Position::Cloud => adopt.push(r),
                Some(r) if is_in_step(&r, &stat) => {}
                Some(r) => {
                    let condition = match &r.cloud_version {
                        Some(v) => PutCondition::IfVersion(v.clone()),
                        None => PutCondition::IfAbsent,
                    };
                    jobs.push((
                        Job::Upload {
                            key,
                            stat,
                            condition,
                        },
                        Some(r),
                    ));
                }
            }
        }
        let mut forget = Vec::new();
        for (key, r) in rows {
            match &r.cloud_version {
                _ if r.position == Position::Cloud => {}
                Some(v) => {
                    let version = v.clone();
                    jobs.push((Job::Delete { key, version }, Some(r)));
                }
                None => forget.push(r),
            }
        }
        jobs.sort_by(|a, b| a.0.key().cmp(b.0.key()));
        Ok((jobs, forget, adopt))
    }

    /// Settles local files found over cloud-only entries (see [`Run::resolve_local`]).
    fn adopt(&mut self, rows: Vec<FileRow>) -> std::result::Result<(), Halt> {
        let mut plans: Vec<Planned> = Vec::new();
        let mut halt = None;
        for r in rows {
            let Some(meta) = meta_of(&r) else { continue };
            let plan = self.resolve_local(&meta, true, &mut halt);
            plans.push((r.path.clone(), Some(r), plan));
            if halt.is_some() {
                break;
            }
        }
        self.commit(&plans, None)?;
        match halt {
            Some(h) => Err(h),
            None => Ok(()),
        }
    }

    /// Forgets the rows of vanished never-uploaded files, then runs the jobs batch by batch.
    fn push_jobs(&mut self, jobs: Jobs, forget: Vec<FileRow>) -> std::result::Result<bool, Halt> {
        if !forget.is_empty() {
            let plans: Vec<Planned> = forget
                .into_iter()
                .map(|r| (r.path.clone(), Some(r), Plan::Remove))
                .collect();
            self.commit(&plans, None)?;
        }
        let mut lost: Vec<String> = Vec::new();
        let mut sent = false;
        for batch in jobs.chunks(self.tuning.push_batch.max(1)) {
            self.check()?;
            let accepted = self.mark(batch)?;
            let outcomes = {
                let uploader = Uploader {
                    device: self.device,
                    scope: self.scope,
                    cloud: self.cloud,
                    folder: &self.folder,
                    stop: self.ctl.stop,
                    tuning: self.tuning,
                };
                uploader.run(&accepted)
            };
            sent |= outcomes
                .iter()
                .any(|o| matches!(o, Outcome::Uploaded { .. } | Outcome::Deleted));
            let (fatal, stopped) = self.record(&accepted, outcomes, &mut lost)?;
            (self.ctl.progress)(SyncState::Uploading);
            if let Some(e) = fatal {
                return Err(self.fail(e));
            }
            if stopped {
                return Err(Halt::Stopped);
            }
        }
        if !lost.is_empty() {
            self.settle_lost(&lost)?;
        }
        Ok(sent || !lost.is_empty())
    }

    /// Marks a batch in flight (one transaction); a job whose row changed since the scan is left
    /// for the next run.
    fn mark(
        &mut self,
        batch: &[(Job, Option<FileRow>)],
    ) -> std::result::Result<Vec<Accepted>, Halt> {
        let phase = self.phase;
        self.db
            .write(|tx| {
                let mut out = Vec::with_capacity(batch.len());
                for (job, basis) in batch {
                    if tx.get(job.key())? != *basis {
                        continue;
                    }
                    let marked = match (job, basis) {
                        (Job::Upload { key, stat, .. }, None) => {
                            local_new(key, *stat, UploadStatus::Uploading)
                        }
                        (Job::Upload { .. }, Some(r)) => FileRow {
                            dirty: if r.cloud_version.is_some() {
                                Dirty::Modified
                            } else {
                                Dirty::New
                            },
                            upload: UploadStatus::Uploading,
                            ..r.clone()
                        },
                        (Job::Delete { .. }, Some(r)) => FileRow {
                            dirty: Dirty::Deleted,
                            local: None,
                            ..r.clone()
                        },
                        (Job::Delete { .. }, None) => continue,
                    };
                    tx.upsert(&marked)?;
                    out.push(Accepted {
                        job: job.clone(),
                        basis: basis.clone(),
                        marked,
                    });
                }
                Ok(out)
            })
            .map_err(|e| Halt::from_error(phase, e))
    }

    /// Records a batch's outcomes (one transaction). Returns the fatal error, if any, and
    /// whether jobs were skipped because of a stop.
    fn record(
        &mut self,
        accepted: &[Accepted],
        outcomes: Vec<Outcome>,
        lost: &mut Vec<String>,
    ) -> std::result::Result<(Option<Error>, bool), Halt> {
        let phase = self.phase;
        let stop_requested = self.ctl.stop.load(Ordering::Relaxed);
        self.db
            .write(|tx| {
                let mut fatal = None;
                let mut skipped = false;
                for (a, outcome) in accepted.iter().zip(outcomes) {
                    let key = a.job.key();
                    let current = tx.get(key)?;
                    if current.as_ref() != Some(&a.marked) {
                        // Another writer (a download, cleanCache) changed the row meanwhile:
                        // keep its view, adding only what the cloud now holds.
                        if let (Outcome::Uploaded { meta, .. }, Some(mut cur)) = (&outcome, current)
                        {
                            cur.cloud_version = Some(meta.version.clone());
                            cur.sha256 = Some(meta.sha256.clone());
                            cur.size = meta.size;
                            cur.mtime_ms = meta.modified;
                            if cur.position != Position::Cloud {
                                cur.position = Position::Both;
                                cur.dirty = Dirty::Modified;
                                cur.upload = UploadStatus::ToBeUploaded;
                            }
                            tx.upsert(&cur)?;
                        }
                        continue;
                    }
                    let with_status = |upload| FileRow {
                        upload,
                        ..a.marked.clone()
                    };
                    match outcome {
                        Outcome::Uploaded {
                            meta,
                            stat,
                            changed: false,
                        } => tx.upsert(&in_step(&meta, stat, UploadStatus::UploadSuccess))?,
                        Outcome::Uploaded {
                            meta,
                            changed: true,
                            ..
                        } => tx.upsert(&FileRow {
                            position: Position::Both,
                            dirty: Dirty::Modified,
                            upload: UploadStatus::ToBeUploaded,
                            cloud_version: Some(meta.version),
                            sha256: Some(meta.sha256),
                            size: meta.size,
                            mtime_ms: meta.modified,
                            ..a.marked.clone()
                        })?,
                        Outcome::Deleted => tx.remove(key)?,
                        Outcome::Lost => {
                            lost.push(key.to_string());
                            if matches!(a.job, Job::Upload { .. }) {
                                tx.upsert(&with_status(UploadStatus::ToBeUploaded))?;
                            }
                        }
                        Outcome::Vanished => match &a.basis {
                            Some(b) => tx.upsert(b)?,
                            None => tx.remove(key)?,
                        },
                        Outcome::Failed => tx.upsert(&with_status(UploadStatus::UploadFailure))?,
                        Outcome::Fatal(e) => {
                            if matches!(a.job, Job::Upload { .. }) {
                                tx.upsert(&with_status(UploadStatus::UploadFailure))?;
                            }
                            fatal.get_or_insert(e);
                        }
                        Outcome::Skipped => {
                            skipped = true;
                            if matches!(a.job, Job::Upload { .. }) {
                                tx.upsert(&with_status(UploadStatus::ToBeUploaded))?;
                            }
                        }
                    }
                }
                Ok((fatal, skipped && stop_requested))
            })
            .map_err(|e| Halt::from_error(phase, e))
    }

    /// Keys whose put/delete lost its condition: ask the cloud what is there now and settle each
    /// as a pull would (conflict copy, adoption, or a new upload), without relying on the change
    /// feed having it still ahead of the cursor.
    fn settle_lost(&mut self, keys: &[String]) -> std::result::Result<(), Halt> {
        let mut plans: Vec<Planned> = Vec::new();
        let mut halt = None;
        for key in keys {
            let basis = self.db.get(key).map_err(|e| self.fail(e))?;
            let plan = match self.cloud.head(self.ns(), key) {
                Ok(Some(meta)) => self.plan_upsert(&meta, basis.as_ref(), &mut halt),
                Ok(None) => match (self.entry(key), &basis) {
                    // The cloud object is gone: the local file is new again.
                    (Entry::File(stat), _) => {
                        Plan::Upsert(local_new(key, stat, UploadStatus::ToBeUploaded))
                    }
                    (_, Some(_)) => Plan::Remove,
                    (_, None) => Plan::Keep,
                },
                Err(e) => {
                    halt = Some(self.fail(e.into()));
                    Plan::Keep
                }
            };
            plans.push((key.clone(), basis, plan));
            if halt.is_some() {
                break;
            }
        }
        self.commit(&plans, None)?;
        match halt {
            Some(h) => Err(h),
            None => Ok(()),
        }
    }
}

/// What the upload threads share (the database stays with the run's thread).
struct Uploader<'a> {
    device: &'a Device,
    scope: &'a SyncScope,
    cloud: &'a dyn CloudBackend,
    folder: &'a SyncedFolder,
    stop: &'a AtomicBool,
    tuning: &'a Tuning,
}

impl Uploader<'_> {
    /// Runs `jobs` on a few threads; outcomes in job order.
    fn run(&self, jobs: &[Accepted]) -> Vec<Outcome> {
        let next = AtomicUsize::new(0);
        let halted = AtomicBool::new(false);
        let started = Instant::now();
        let last_look = AtomicU64::new(0);
        let workers = self.tuning.workers.clamp(1, jobs.len().max(1));
        let mut outcomes: Vec<Option<Outcome>> = (0..jobs.len()).map(|_| None).collect();
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    s.spawn(|| {
                        let mut mine = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= jobs.len() {
                                break;
                            }
                            if self.stop.load(Ordering::Relaxed) || halted.load(Ordering::Relaxed) {
                                mine.push((i, Outcome::Skipped));
                                continue;
                            }
                            let now = started.elapsed().as_millis() as u64;
                            let prev = last_look.load(Ordering::Relaxed);
                            if now >= prev + CONDITIONS_EVERY_MS
                                && last_look
                                    .compare_exchange(
                                        prev,
                                        now,
                                        Ordering::Relaxed,
                                        Ordering::Relaxed,
                                    )
                                    .is_ok()
                            {
                                if let Some(e) = self.condition_error() {
                                    halted.store(true, Ordering::Relaxed);
                                    mine.push((i, Outcome::Fatal(e)));
                                    continue;
                                }
                            }
                            let outcome = self.run_job(&jobs[i].job);
                            if matches!(outcome, Outcome::Fatal(_)) {
                                halted.store(true, Ordering::Relaxed);
                            }
                            mine.push((i, outcome));
                        }
                        mine
                    })
                })
                .collect();
            for h in handles {
                if let Ok(done) = h.join() {
                    for (i, o) in done {
                        outcomes[i] = Some(o);
                    }
                }
            }
        });
        // A worker that panicked left its jobs without outcome: they count as failed.
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or(Outcome::Failed))
            .collect()
    }

    /// The error a device condition (no network, low battery) ends the run with, if any.
    fn condition_error(&self) -> Option<Error> {
        match Conditions::read(self.device, self.scope) {
            Ok(c) => match c.running_error() {
                Some(SyncErrorType::NetworkUnavailable) => Some(Error::new(
                    ErrorCode::NetworkUnavailable,
                    "the network went away during the upload",
                )),
                Some(other) => Some(Error::new(
                    ErrorCode::BatteryLevelWarning,
                    format!("uploads paused: {other:?}"),
                )),
                None => None,
            },
            Err(e) => Some(e),
        }
    }

    fn run_job(&self, job: &Job) -> Outcome {
        let ns = self.scope.namespace();
        match job {
            Job::Upload { key, condition, .. } => {
                let (mut file, stat) = match self.folder.open_file(key) {
                    Ok(Some(f)) => f,
                    Ok(None) => return Outcome::Vanished,
                    Err(_) => return Outcome::Failed,
                };
                let opts = PutOptions {
                    condition: condition.clone(),
                    modified: Some(stat.mtime_ns.div_euclid(1_000_000)),
                };
                match self.cloud.put(ns, key, &mut file, &opts) {
                    Ok(meta) => {
                        #[cfg(test)]
                        if let Some(hook) = &self.tuning.after_put {
                            hook(key);
                        }
                        let changed = match file.metadata() {
                            Ok(m) => LocalStat::of(&m) != stat,
                            Err(_) => true,
                        };
                        Outcome::Uploaded {
                            meta,
                            stat,
                            changed,
                        }
                    }
                    Err(e) => classify(e),
                }
            }
            Job::Delete { key, version } => {
                let condition = DeleteCondition::IfVersion(version.clone());
                match self.cloud.delete(ns, key, &condition) {
                    Ok(()) => Outcome::Deleted,
                    Err(e) => classify(e),
                }
            }
        }
    }
}

/// Sorts a cloud failure into what the push does about it.
fn classify(e: CloudError) -> Outcome {
    match e {
        CloudError::PreconditionFailed { .. } => Outcome::Lost,
        CloudError::Full { .. } => Outcome::Fatal(e.into()),
        other => {
            let e: Error = other.into();
            match e.code() {
                ErrorCode::NetworkUnavailable => Outcome::Fatal(e),
                // The cloud's own disk is full: to this device that is a full cloud.
                ErrorCode::NoSpace | ErrorCode::QuotaExceeded => {
                    Outcome::Fatal(Error::new(ErrorCode::QuotaExceeded, e.detail().to_string()))
                }
                _ => Outcome::Failed,
            }
        }
    }
}
