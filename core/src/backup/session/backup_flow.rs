//! One bundle of a backup: begin, the app's onBackupEx/onBackup, scan, hand small files over in
//! tar parts and big files as their own fds, then manage.json, the result report and the end.
//!
//! An incremental bundle sends only what changed since the client's previous manifest (a file
//! that is new, or whose size, mtime or mode differ, or whose content differs when its mtime falls
//! in the second of the previous backup); unchanged files are never read. Each item it sends comes
//! with a manifest of exactly its contents, and manage.json with the manifest of every current file.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::events::{FileReady, SessionEvent};
use super::progress::{error_report, process_error};
use super::{hooks, Inner, Job, JobKind, Outcome};
use crate::backup::archive::beneath::Beneath;
use crate::backup::archive::manage::{self, ManageEntry};
use crate::backup::archive::pack::{
    big_file_name, FileErrors, FinishedPart, PartPacker, BIG_FILE_THRESHOLD, PART_MAX_BYTES,
    PART_MAX_FILES,
};
use crate::backup::incremental::{
    sha256_file, write_header, write_record, Manifest, ManifestRecord,
};
use crate::backup::scan::{scan, EntryKind, ScanEntry};
use crate::device::InstalledApp;
use crate::error::{Error, ErrorCode, Result};

/// Where OpenHarmony's extension keeps a backup's parts; manage.json names parts by it.
const PART_DIR: &str = "/data/storage/el2/base/.backup/backup";

/// What an incremental bundle compares against.
pub(crate) struct Previous {
    /// The client's manifest of the previous backup (empty: none, everything is new).
    pub manifest: Manifest,
    /// When the previous backup ran (Unix seconds).
    pub last_time: i64,
}

pub(super) fn run(inner: &Arc<Inner>, job: &Job) -> Outcome {
    let app = match inner.device.app(&job.name) {
        Ok(app) => app,
        Err(e) => {
            inner.emit(SessionEvent::BundleBegin(Err(e.with_data(&job.name))));
            return Outcome::NotStarted;
        }
    };
    let running = match hooks::start(inner, &job.ctl, &app) {
        Ok(r) => r,
        Err(e) => {
            inner.emit(SessionEvent::BundleBegin(Err(e.with_data(&job.name))));
            return Outcome::NotStarted;
        }
    };
    if running.is_none() {
        job.ctl.set_running(None);
    }
    inner.emit(SessionEvent::BundleBegin(Ok(job.name.clone())));
    job.ctl.start_timer(0);
    let previous = match &job.kind {
        JobKind::Incremental(p) => Some(p),
        _ => None,
    };
    let result = back_up(inner, job, &app, running.as_ref(), previous);
    if let Err(e) = &result {
        if e.code() == ErrorCode::ExtensionException {
            inner.emit(SessionEvent::ResultReport {
                bundle: job.name.clone(),
                result: error_report(e),
            });
        }
    }
    hooks::finish(running, &job.ctl, 1);
    if job.infos.clear_backup_data || result.as_ref().is_err_and(hooks::died) {
        hooks::clean_temp(&app, "backup");
    }
    Outcome::Finished(result)
}

fn back_up(
    inner: &Arc<Inner>,
    job: &Job,
    app: &InstalledApp,
    running: Option<&hooks::RunningExtension>,
    previous: Option<&Previous>,
) -> Result<()> {
    let mut report = String::new();
    if let Some(r) = running {
        report = hooks::call_with_fallback(
            r,
            &job.ctl,
            ("onBackupEx", vec![Value::from(job.infos.hook_info())]),
            ("onBackup", vec![]),
        )?;
    }
    let sandbox = app.sandbox();
    let (includes, excludes) = app.config.dirs_for_scene(job.infos.backup_scene.as_deref());
    let temp_dir = inner.device.state_subdir("tmp")?;
    let source = Beneath::open(&sandbox)?;
    let mut sender = Sender {
        inner,
        job,
        temp_dir: &temp_dir,
        index: Vec::new(),
        big_names: HashSet::new(),
        parts: 0,
        incremental: match previous {
            Some(_) => Some(Incremental::new(&temp_dir)?),
            None => None,
        },
    };
    // Small files go to two packing threads in chunks of one part's worth (in scan order), while
    // this thread keeps scanning and hands finished parts over in order: scan, packing and the
    // client's copy overlap on two cores.
    let (chunk_tx, chunk_rx) = mpsc::sync_channel::<(usize, Vec<ScanEntry>)>(PACKERS);
    let chunk_rx = Mutex::new(chunk_rx);
    let (part_tx, part_rx) = mpsc::channel::<(usize, Result<(Vec<FinishedPart>, FileErrors)>)>();
    let mut errors: FileErrors = Vec::new();
    let outcome = thread::scope(|scope| -> Result<()> {
        for _ in 0..PACKERS {
            let part_tx = part_tx.clone();
            let (chunk_rx, sandbox, temp_dir) = (&chunk_rx, &sandbox, &temp_dir);
            scope.spawn(move || loop {
                let next = chunk_rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                let Ok((index, chunk)) = next else { return };
                let _ = part_tx.send((index, pack_chunk(sandbox, temp_dir, &chunk)));
            });
        }
        drop(part_tx);
        let mut ordered = InOrder::default();
        let mut chunk = Vec::new();
        let mut chunk_bytes = 0u64;
        let mut chunks = 0usize;
        // The tree walk (getdents and a statx per entry) runs on its own thread and hands entries
        // over in batches, so it overlaps the comparing, manifest writing and chunking done here.
        let (batch_tx, batch_rx) = mpsc::sync_channel::<Vec<ScanEntry>>(WALK_BATCHES);
        let walker = {
            let (sandbox, ctl) = (&sandbox, &job.ctl);
            scope.spawn(move || {
                let mut batch = Vec::with_capacity(WALK_BATCH);
                let walked = scan(sandbox, includes, excludes, |entry| {
                    ctl.check()?;
                    batch.push(entry);
                    if batch.len() == WALK_BATCH {
                        // A closed channel means the consumer stopped: stop walking too.
                        batch_tx
                            .send(std::mem::replace(
                                &mut batch,
                                Vec::with_capacity(WALK_BATCH),
                            ))
                            .map_err(|_| walk_stopped())?;
                    }
                    Ok(())
                });
                if walked.is_ok() && !batch.is_empty() {
                    let _ = batch_tx.send(batch);
                }
                walked
            })
        };
        let mut consume = |entry: ScanEntry| -> Result<()> {
            job.ctl.check()?;
            if let Some(prev) = previous {
                if !sender.changed(&source, &entry, prev)? {
                    return Ok(());
                }
            }
            if entry.kind == EntryKind::File && entry.size > BIG_FILE_THRESHOLD {
                return sender.send_big(&source, &entry);
            }
            chunk_bytes += entry.size;
            chunk.push(entry);
            if chunk.len() >= PART_MAX_FILES || chunk_bytes >= PART_MAX_BYTES {
                chunk_tx
                    .send((chunks, std::mem::take(&mut chunk)))
                    .map_err(|_| packers_gone())?;
                chunks += 1;
                chunk_bytes = 0;
                // Hand over whatever is ready, without waiting.
                while let Ok(done) = part_rx.try_recv() {
                    ordered.put(done);
                    ordered.send_ready(&mut sender, &mut errors)?;
                }
            }
            Ok(())
        };
        let mut consumed = Ok(());
        for batch in batch_rx.iter() {
            if let Err(e) = batch.into_iter().try_for_each(&mut consume) {
                consumed = Err(e);
                break;
            }
        }
        drop(batch_rx); // lets a walker blocked on a full channel see that nobody listens
        let walked = walker.join().unwrap_or_else(|_| {
            Err(Error::new(
                ErrorCode::UnknownError,
                "the tree walk panicked",
            ))
        });
        // The consumer's own error first; a walker that stopped only because of it says less.
        let scanned = consumed.and(walked);
        if scanned.is_ok() && !chunk.is_empty() {
            chunk_tx
                .send((chunks, std::mem::take(&mut chunk)))
                .map_err(|_| packers_gone())?;
            chunks += 1;
        }
        drop(chunk_tx); // the packers finish what they have, then stop
        scanned?;
        while ordered.next < chunks {
            let done = part_rx.recv().map_err(|_| packers_gone())?;
            ordered.put(done);
            ordered.send_ready(&mut sender, &mut errors)?;
        }
        Ok(())
    });
    outcome?;
    for (path, e) in errors {
        inner.emit(SessionEvent::Process {
            bundle: job.name.clone(),
            process: process_error(ErrorCode::TarFailed, &format!("{path}: {}", e.message())),
        });
    }
    // The app's TRUSTED_DEVICE assets travel beside its data as one sealed file, never in a part
    // and never in manage.json (the restore takes it out before placing data).
    if let Some(package) = crate::asset::export_for_backup(&inner.device, &job.name) {
        let fd = anonymous_file(&temp_dir, &package)?.into();
        let manifest_fd = sender.item_manifest(&[])?;
        sender.send(FileReady {
            bundle_name: job.name.clone(),
            uri: crate::asset::SYNC_PACKAGE_URI.into(),
            fd,
            manifest_fd,
        })?;
    }
    let index = anonymous_file(&temp_dir, &manage::to_json(&sender.index))?;
    let all_files = match sender.incremental.take() {
        Some(inc) => Some(inc.finish()?.into()),
        None => None,
    };
    sender.send(FileReady {
        bundle_name: job.name.clone(),
        uri: "manage.json".into(),
        fd: index.into(),
        manifest_fd: all_files,
    })?;
    if !report.is_empty() {
        inner.emit(SessionEvent::ResultReport {
            bundle: job.name.clone(),
            result: report,
        });
    }
    Ok(())
}

/// Threads packing tar parts of one bundle.
const PACKERS: usize = 2;
/// Entries per batch from the tree walk, and batches that may wait.
const WALK_BATCH: usize = 512;
const WALK_BATCHES: usize = 8;

fn walk_stopped() -> Error {
    Error::new(ErrorCode::UnknownError, "the backup stopped")
}

/// Packs one chunk of small files (usually one part; more when files grew since the scan).
fn pack_chunk(
    sandbox: &Path,
    temp_dir: &Path,
    chunk: &[ScanEntry],
) -> Result<(Vec<FinishedPart>, FileErrors)> {
    let mut packer = PartPacker::new(sandbox, temp_dir);
    let mut parts = Vec::new();
    for entry in chunk {
        if let Some(part) = packer.add(entry)? {
            parts.push(part);
        }
    }
    let (last, errors) = packer.finish()?;
    parts.extend(last);
    Ok((parts, errors))
}

fn packers_gone() -> Error {
    Error::new(ErrorCode::TarFailed, "the packing threads stopped")
}

/// Packed chunks, handed to the client in chunk order whatever order they finish in.
#[derive(Default)]
struct InOrder {
    next: usize,
    waiting: std::collections::BTreeMap<usize, Result<(Vec<FinishedPart>, FileErrors)>>,
}

impl InOrder {
    fn put(&mut self, (index, done): (usize, Result<(Vec<FinishedPart>, FileErrors)>)) {
        self.waiting.insert(index, done);
    }

    fn send_ready(&mut self, sender: &mut Sender<'_>, errors: &mut FileErrors) -> Result<()> {
        while let Some(done) = self.waiting.remove(&self.next) {
            self.next += 1;
            let (parts, errs) = done?;
            errors.extend(errs);
            for part in parts {
                sender.send_part(part)?;
            }
        }
        Ok(())
    }
}

/// An incremental bundle's bookkeeping.
struct Incremental {
    /// Prefix of this run's part names (`<epochMillis>_part.<N>.tar`, as OpenHarmony names them).
    stamp: u128,
    /// Hashes computed this run, by sandbox path (only files that were read: the changed ones).
    hashes: HashMap<String, String>,
    /// Every current file and empty folder, streamed in scan order into an anonymous file: the
    /// next run's previous manifest, never held in memory.
    current: std::io::BufWriter<File>,
}

impl Incremental {
    fn new(temp_dir: &Path) -> Result<Incremental> {
        let file = tempfile::tempfile_in(temp_dir).map_err(|e| {
            Error::io(
                &e,
                format!("cannot create a temp file in {}", temp_dir.display()),
            )
        })?;
        let mut current = std::io::BufWriter::with_capacity(256 * 1024, file);
        write_header(&mut current).map_err(|e| Error::io(&e, "cannot write the manifest"))?;
        Ok(Incremental {
            stamp: now_millis(),
            hashes: HashMap::new(),
            current,
        })
    }

    fn record(&mut self, r: &ManifestRecord) -> Result<()> {
        write_record(&mut self.current, r).map_err(|e| Error::io(&e, "cannot write the manifest"))
    }

    /// The all-files manifest, rewound for the client.
    fn finish(self) -> Result<File> {
        let mut f = self
            .current
            .into_inner()
            .map_err(|e| Error::io(e.error(), "cannot write the manifest"))?;
        f.seek(SeekFrom::Start(0))
            .map_err(|e| Error::io(&e, "cannot rewind the manifest"))?;
        Ok(f)
    }
}

/// Hands files to the client (at the bundle's send rate) and remembers them for manage.json.
struct Sender<'a> {
    inner: &'a Arc<Inner>,
    job: &'a Job,
    temp_dir: &'a Path,
    index: Vec<ManageEntry>,
    big_names: HashSet<String>,
    incremental: Option<Incremental>,
    /// Parts sent so far.
    parts: usize,
}

fn record_of(entry: &ScanEntry, hash: String) -> ManifestRecord {
    ManifestRecord {
        path: entry.sandbox_path().to_string_lossy().into_owned(),
        mode: entry.mode,
        is_dir: entry.kind == EntryKind::EmptyDir,
        size: entry.size,
        mtime: entry.mtime.0,
        hash,
        is_incremental: true,
    }
}

impl Sender<'_> {
    /// Records `entry` in the current manifest and says whether it must be sent.
    fn changed(&mut self, source: &Beneath, entry: &ScanEntry, prev: &Previous) -> Result<bool> {
        let Some(inc) = self.incremental.as_mut() else {
            return Ok(true);
        };
        let path = entry.sandbox_path().to_string_lossy().into_owned();
        let old = prev.manifest.get(&path);
        if entry.kind == EntryKind::EmptyDir {
            inc.record(&record_of(entry, String::new()))?;
            return Ok(!old.is_some_and(|o| o.is_dir));
        }
        let same_meta = old.is_some_and(|o| {
            !o.is_dir
                && o.size == entry.size
                && o.mtime == entry.mtime.0
                && o.mode & 0o7777 == entry.mode & 0o7777
        });
        let same_second = entry.mtime.0 == prev.last_time;
        if same_meta && !same_second {
            // Unchanged: never read; its hash carries over.
            let hash = old.map(|o| o.hash.clone()).unwrap_or_default();
            inc.record(&record_of(entry, hash))?;
            return Ok(false);
        }
        let file = match source.open_file(&entry.rel) {
            Ok(f) => f,
            Err(e) if e.code() == ErrorCode::NoSuchFile => return Ok(false), // vanished since the scan
            Err(e) => return Err(e),
        };
        let hash = sha256_file(&file).map_err(|e| Error::io(&e, &path))?;
        let changed = !(same_meta && old.is_some_and(|o| o.hash == hash));
        inc.record(&record_of(entry, hash.clone()))?;
        inc.hashes.insert(path, hash);
        Ok(changed)
    }

    /// A manifest of exactly `entries` (incremental sessions only).
    fn item_manifest(&self, entries: &[ScanEntry]) -> Result<Option<OwnedFd>> {
        let Some(inc) = &self.incremental else {
            return Ok(None);
        };
        let mut m = Manifest::new();
        for e in entries {
            let path = e.sandbox_path().to_string_lossy().into_owned();
            m.insert(record_of(
                e,
                inc.hashes.get(&path).cloned().unwrap_or_default(),
            ))?;
        }
        Ok(Some(anonymous_file(self.temp_dir, &m.to_bytes())?.into()))
    }

    fn send(&mut self, file: FileReady) -> Result<()> {
        self.job.ctl.acquire_send_slot()?;
        self.inner.emit(SessionEvent::FileReady(Ok(file)));
        Ok(())
    }

    fn send_part(&mut self, part: FinishedPart) -> Result<()> {
        // Numbered in the order they go out (each packer counts its own from 1).
        self.parts += 1;
        let name = format!("part.{}.tar", self.parts);
        let uri = match &self.incremental {
            Some(inc) => format!("{}_{name}", inc.stamp),
            None => name,
        };
        let manifest_fd = self.item_manifest(&part.entries)?;
        let now = now();
        self.index.push(ManageEntry {
            file_name: uri.clone(),
            path: format!("{PART_DIR}/{uri}"),
            size: part.size,
            mode: 0o100660,
            atime: now,
            mtime: now,
            is_big_file: false,
            is_user_tar: false,
        });
        self.send(FileReady {
            bundle_name: self.job.name.clone(),
            uri,
            fd: part.file.into(),
            manifest_fd,
        })
    }

    /// A big file goes over as an fd of the file itself: no copy at all on the service side.
    fn send_big(&mut self, source: &Beneath, entry: &ScanEntry) -> Result<()> {
        let fd: OwnedFd = match source.open_file(&entry.rel) {
            Ok(f) => f.into(),
            Err(e) if e.code() == ErrorCode::NoSuchFile => return Ok(()), // vanished since the scan
            Err(e) => {
                let path = entry.sandbox_path().display().to_string();
                self.inner.emit(SessionEvent::Process {
                    bundle: self.job.name.clone(),
                    process: process_error(
                        ErrorCode::TarFailed,
                        &format!("{path}: {}", e.message()),
                    ),
                });
                return Ok(());
            }
        };
        let mut name = big_file_name(&entry.rel);
        let mut n = 1;
        while !self.big_names.insert(name.clone()) {
            name = format!("{}.{n}", big_file_name(&entry.rel));
            n += 1;
        }
        let manifest_fd = self.item_manifest(std::slice::from_ref(entry))?;
        self.index.push(ManageEntry {
            file_name: name.clone(),
            path: entry.sandbox_path().to_string_lossy().into_owned(),
            size: entry.size,
            mode: entry.mode,
            atime: entry.atime,
            mtime: entry.mtime,
            is_big_file: true,
            is_user_tar: name.ends_with(".tar"),
        });
        self.send(FileReady {
            bundle_name: self.job.name.clone(),
            uri: name,
            fd,
            manifest_fd,
        })
    }
}

fn now() -> (i64, i64) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as i64, d.subsec_nanos() as i64)
}

fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}

/// `bytes` in an anonymous temp file positioned at 0.
pub(super) fn anonymous_file(dir: &Path, bytes: &[u8]) -> Result<File> {
    let mut f = tempfile::tempfile_in(dir).map_err(|e| {
        Error::io(
            &e,
            format!("cannot create a temp file in {}", dir.display()),
        )
    })?;
    f.write_all(bytes)
        .map_err(|e| Error::io(&e, "cannot write a temp file"))?;
    f.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io(&e, "cannot rewind a temp file"))?;
    Ok(f)
}
