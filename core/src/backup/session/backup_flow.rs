//! One bundle of a backup: begin, the app's onBackupEx/onBackup, scan, hand small files over in
//! tar parts and big files as their own fds, then manage.json, the result report and the end.

use std::collections::HashSet;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::events::{FileReady, SessionEvent};
use super::progress::{error_report, process_error};
use super::{hooks, Inner, Job, Outcome};
use crate::backup::archive::beneath::Beneath;
use crate::backup::archive::manage::{self, ManageEntry};
use crate::backup::archive::pack::{big_file_name, FinishedPart, PartPacker, BIG_FILE_THRESHOLD};
use crate::backup::scan::{scan, EntryKind, ScanEntry};
use crate::device::InstalledApp;
use crate::error::{Error, ErrorCode, Result};

/// Where OpenHarmony's extension keeps a backup's parts; manage.json names parts by it.
const PART_DIR: &str = "/data/storage/el2/base/.backup/backup";

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
    let result = back_up(inner, job, &app, running.as_ref());
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
    let mut sender = Sender {
        inner,
        job,
        index: Vec::new(),
        big_names: HashSet::new(),
    };
    let mut packer = PartPacker::new(&sandbox, &temp_dir);
    let source = Beneath::open(&sandbox)?;
    scan(&sandbox, includes, excludes, |entry| {
        job.ctl.check()?;
        if entry.kind == EntryKind::File && entry.size > BIG_FILE_THRESHOLD {
            sender.send_big(&source, &entry)
        } else {
            match packer.add(&entry)? {
                Some(part) => sender.send_part(part),
                None => Ok(()),
            }
        }
    })?;
    let (last, errors) = packer.finish()?;
    if let Some(part) = last {
        sender.send_part(part)?;
    }
    for (path, e) in errors {
        inner.emit(SessionEvent::Process {
            bundle: job.name.clone(),
            process: process_error(ErrorCode::TarFailed, &format!("{path}: {}", e.message())),
        });
    }
    let index = manage::to_json(&sender.index);
    let file = anonymous_file(&temp_dir, &index)?;
    sender.send(FileReady {
        bundle_name: job.name.clone(),
        uri: "manage.json".into(),
        fd: file.into(),
        manifest_fd: None,
    })?;
    if !report.is_empty() {
        inner.emit(SessionEvent::ResultReport {
            bundle: job.name.clone(),
            result: report,
        });
    }
    Ok(())
}

/// Hands files to the client (at the bundle's send rate) and remembers them for manage.json.
struct Sender<'a> {
    inner: &'a Arc<Inner>,
    job: &'a Job,
    index: Vec<ManageEntry>,
    big_names: HashSet<String>,
}

impl Sender<'_> {
    fn send(&mut self, file: FileReady) -> Result<()> {
        self.job.ctl.acquire_send_slot()?;
        self.inner.emit(SessionEvent::FileReady(Ok(file)));
        Ok(())
    }

    fn send_part(&mut self, part: FinishedPart) -> Result<()> {
        self.index.push(ManageEntry {
            file_name: part.name.clone(),
            path: format!("{PART_DIR}/{}", part.name),
            size: part.size,
            mode: 0o100660,
            atime: now(),
            mtime: now(),
            is_big_file: false,
            is_user_tar: false,
        });
        let fd: OwnedFd = part.file.into();
        self.send(FileReady {
            bundle_name: self.job.name.clone(),
            uri: part.name,
            fd,
            manifest_fd: None,
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
            manifest_fd: None,
        })
    }
}

fn now() -> (i64, i64) {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as i64, d.subsec_nanos() as i64)
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
