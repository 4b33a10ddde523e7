//! One bundle of a restore: begin, answer getFileHandle with writable fds in the app's restore
//! folder, and once published unpack the parts and move the big files into the sandbox (beneath
//! it, never through a link, each file complete before it gets its name), then the app's
//! onRestoreEx/onRestore, the result report and the end.

use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::events::{FileReady, SessionEvent};
use super::progress::{error_report, process_error};
use super::{hooks, Inner, Job, Outcome, RestorePlan};
use crate::backup::archive::beneath::Beneath;
use crate::backup::archive::manage;
use crate::backup::archive::unpack::unpack_file;
use crate::backup::config::BackupConfig;
use crate::backup::incremental::Manifest;
use crate::backup::scan::{scan, EntryKind, ScanEntry};
use crate::error::{code_for_io, Error, ErrorCode, Result};
use std::os::unix::ffi::OsStrExt;

/// The app's restore folder, relative to its sandbox.
pub const RESTORE_DIR: &str = "data/storage/el2/base/.backup/restore";
/// How many tar parts of a bundle are unpacked at once.
const PARALLEL_PARTS: usize = 2;
/// How often a waiting bundle looks at its timer and the session.
const TICK: Duration = Duration::from_millis(200);
/// The data phase's timer floor (OpenHarmony's framework timer: at least 15 minutes, plus 3 s
/// per 3 MiB of data).
const MIN_DATA_TIMEOUT_MS: u64 = 900_000;

pub(super) fn run(inner: &Arc<Inner>, job: &Job, plan: &RestorePlan) -> Outcome {
    let app = match inner.device.app(&plan.target) {
        Ok(app) => app,
        Err(e) => {
            inner.emit(SessionEvent::BundleBegin(Err(e.with_data(&job.name))));
            return Outcome::NotStarted;
        }
    };
    let prepared = prepare(&app.sandbox());
    let (sandbox, restore_dir) = match prepared {
        Ok(p) => p,
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
    let size_ms = (plan.remote.space_occupied.max(0) as u64 / (3 << 20)) * 3_000 + 30_000;
    let floor = if inner.config.bundle_timeout_ms.is_some() {
        0
    } else {
        MIN_DATA_TIMEOUT_MS.max(size_ms)
    };
    job.ctl.start_timer(floor);

    let result = serve_handles(inner, job, plan, &restore_dir)
        .map(|()| import_assets(inner, &job.name, &plan.target, &restore_dir))
        .and_then(|_| {
            place_data(
                inner,
                job,
                &app.config,
                &app.config.full_backup_only,
                (&sandbox, &app.sandbox()),
                &restore_dir,
            )
        })
        .and_then(|placed| {
            let mut hook_result = Ok(());
            if let Some(r) = running.as_ref() {
                job.ctl.start_timer(0);
                let version = hook_version(plan.remote.version_code, &plan.remote.version_name);
                hook_result = hooks::call_with_fallback(
                    r,
                    &job.ctl,
                    (
                        "onRestoreEx",
                        vec![version.clone(), Value::from(job.infos.hook_info())],
                    ),
                    ("onRestore", vec![version]),
                )
                .map(|report| {
                    if !report.is_empty() {
                        inner.emit(SessionEvent::ResultReport {
                            bundle: job.name.clone(),
                            result: report,
                        });
                    }
                });
            }
            hook_result.and(placed)
        });
    if let Err(e) = &result {
        if e.code() == ErrorCode::ExtensionException {
            inner.emit(SessionEvent::ResultReport {
                bundle: job.name.clone(),
                result: error_report(e),
            });
        }
    }
    let keep = app.config.full_backup_only || (!job.infos.clear_backup_data && result.is_ok());
    if !keep || result.as_ref().is_err_and(hooks::died) {
        hooks::clean_temp(&app, "restore");
    }
    hooks::finish(running, &job.ctl, 2);
    Outcome::Finished(result)
}

/// Opens the sandbox (creating it for a freshly installed app) and a clean restore folder in it.
fn prepare(sandbox: &std::path::Path) -> Result<(Beneath, OwnedFd)> {
    std::fs::create_dir_all(sandbox)
        .map_err(|e| Error::io(&e, format!("cannot create {}", sandbox.display())))?;
    let root = Beneath::open(sandbox)?;
    let _ = std::fs::remove_dir_all(sandbox.join(RESTORE_DIR)); // leftovers of an interrupted restore
    let dir = root.mkdirs(std::path::Path::new(RESTORE_DIR), 0o700)?;
    Ok((root, dir))
}

/// The sealed asset package of the bundle's backup, if the client handed one over: taken out of
/// the restore folder (it never reaches the sandbox) and imported for the restore target. Its
/// problems are recorded as the target app's asset sync result, never the bundle's.
fn import_assets(inner: &Arc<Inner>, source: &str, target: &str, restore_dir: &OwnedFd) {
    let name = crate::asset::SYNC_PACKAGE_URI;
    if let Ok(package) = read_at(restore_dir, name) {
        remove_at(restore_dir, name);
        remove_at(restore_dir, &format!("{name}.rp"));
        crate::asset::import_from_restore(&inner.device, source, target, &package);
    }
}

/// Answers getFileHandle requests until the bundle is published (or stopped).
fn serve_handles(
    inner: &Arc<Inner>,
    job: &Job,
    plan: &RestorePlan,
    restore_dir: &OwnedFd,
) -> Result<()> {
    loop {
        job.ctl.check()?;
        let (handles, published) = {
            let mut i = plan.inbox.lock();
            if i.handles.is_empty() && !i.published {
                i = plan
                    .inbox
                    .cond
                    .wait_timeout(i, TICK)
                    .map(|r| r.0)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
            (std::mem::take(&mut i.handles), i.published)
        };
        for uri in handles {
            let event = match (
                create_at(restore_dir, &uri),
                create_at(restore_dir, &format!("{uri}.rp")),
            ) {
                (Ok(fd), Ok(manifest)) => Ok(FileReady {
                    bundle_name: job.name.clone(),
                    uri,
                    fd,
                    manifest_fd: Some(manifest),
                }),
                (Err(e), _) | (_, Err(e)) => Err(e.with_data(&job.name)),
            };
            inner.emit(SessionEvent::FileReady(event));
        }
        if published {
            return Ok(());
        }
    }
}

/// Puts the received data in place as manage.json lists it. Bad entries are reported through
/// onProcess and make the bundle end with 13500008; the rest goes on.
fn place_data(
    inner: &Arc<Inner>,
    job: &Job,
    config: &BackupConfig,
    full_backup_only: &bool,
    (sandbox, sandbox_path): (&Beneath, &std::path::Path),
    restore_dir: &OwnedFd,
) -> Result<Result<()>> {
    let index = read_at(restore_dir, "manage.json").map_err(|e| {
        Error::new(
            ErrorCode::UntarFailed,
            format!("manage.json: {}", e.message()),
        )
    })?;
    let entries = manage::parse(&index)?;
    // A chain link: manage.json's manifest lists every file the app had at that backup.
    let state = read_manifest_at(restore_dir, "manage.json.rp")?;
    // A fullBackupOnly app moves its data itself: everything lands in its restore folder.
    let own_target;
    let target = if *full_backup_only {
        own_target = Beneath::open(&sandbox_path.join(RESTORE_DIR))?;
        &own_target
    } else {
        sandbox
    };
    let mut failures = 0usize;
    let mut fail = |what: &str, e: &Error| {
        failures += 1;
        inner.emit(SessionEvent::Process {
            bundle: job.name.clone(),
            process: process_error(ErrorCode::UntarFailed, &format!("{what}: {}", e.message())),
        });
    };
    // The parts first, two at a time: they hold disjoint files, and tar leaves the second core idle.
    let parts: Vec<&manage::ManageEntry> = entries.iter().filter(|e| !e.is_big_file).collect();
    let target_path = if *full_backup_only {
        sandbox_path.join(RESTORE_DIR)
    } else {
        sandbox_path.to_path_buf()
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let problems: std::sync::Mutex<Vec<(String, Error)>> = std::sync::Mutex::new(Vec::new());
    let stopped: std::sync::Mutex<Option<Error>> = std::sync::Mutex::new(None);
    let workers = parts.len().min(PARALLEL_PARTS);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let stop = |e: Error| {
                    stopped
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get_or_insert(e);
                };
                // Each worker resolves paths through its own anchor (and its own folder cache).
                let local = match Beneath::open(&target_path) {
                    Ok(b) => b,
                    Err(e) => return stop(e),
                };
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(entry) = parts.get(i) else { return };
                    if let Err(e) = job.ctl.check() {
                        return stop(e);
                    }
                    let tar = match open_at(restore_dir, &entry.file_name, libc::O_RDONLY) {
                        Ok(fd) => File::from(fd),
                        Err(e) => {
                            problems
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .push((entry.file_name.clone(), e));
                            continue;
                        }
                    };
                    // An incremental part comes with a manifest of exactly what it holds: take only that.
                    let listed =
                        match read_manifest_at(restore_dir, &format!("{}.rp", entry.file_name)) {
                            Ok(l) => l,
                            Err(e) => return stop(e),
                        };
                    let filter = |name: &str| {
                        listed
                            .as_ref()
                            .is_none_or(|m| m.get(name.trim_end_matches('/')).is_some())
                    };
                    let report = unpack_file(&local, &tar, Some(&filter));
                    problems
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .extend(report.errors);
                    remove_at(restore_dir, &entry.file_name);
                    remove_at(restore_dir, &format!("{}.rp", entry.file_name));
                }
            });
        }
    });
    if let Some(e) = stopped.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    for (name, e) in problems.into_inner().unwrap_or_else(|p| p.into_inner()) {
        fail(&name, &e);
    }
    // Then the big files, moved (renamed) into place.
    for entry in entries.iter().filter(|e| e.is_big_file) {
        job.ctl.check()?;
        let dest = entry.path.trim_start_matches('/');
        let moved = target.move_into(
            restore_dir.as_fd(),
            std::ffi::OsStr::new(&entry.file_name),
            std::path::Path::new(dest),
            entry.mode & 0o7777,
            entry.atime,
            entry.mtime,
        );
        if let Err(e) = moved {
            fail(&entry.path, &e);
        }
    }
    remove_at(restore_dir, "manage.json");
    remove_at(restore_dir, "manage.json.rp");
    if let (Some(state), false) = (&state, *full_backup_only) {
        prune(sandbox, sandbox_path, config, state)?;
    }
    Ok(if failures == 0 {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::UntarFailed,
            format!("{failures} entries of {} could not be restored", job.name),
        ))
    })
}

/// The manifest named `name` in the restore folder: None when it is absent or empty.
fn read_manifest_at(dir: &OwnedFd, name: &str) -> Result<Option<Manifest>> {
    let bytes = match read_at(dir, name) {
        Ok(b) => b,
        Err(e) if e.code() == ErrorCode::NoSuchFile => return Ok(None),
        Err(e) => return Err(e),
    };
    let m = Manifest::parse(&bytes)
        .map_err(|e| Error::new(ErrorCode::UntarFailed, format!("{name}: {}", e.detail())))?;
    Ok(if m.is_empty() { None } else { Some(m) })
}

/// Deletes what the app's selected folders hold that the chain's latest manifest does not list:
/// files first, then folders left empty (deepest first), all beneath the sandbox.
fn prune(
    sandbox: &Beneath,
    sandbox_path: &std::path::Path,
    config: &BackupConfig,
    state: &Manifest,
) -> Result<()> {
    let listed = |e: &ScanEntry| state.get(&e.sandbox_path().to_string_lossy()).is_some();
    let mut files = Vec::new();
    scan(sandbox_path, &config.includes, &config.excludes, |e| {
        if e.kind == EntryKind::File && !listed(&e) {
            files.push(e.rel);
        }
        Ok(())
    })?;
    for rel in files {
        remove_beneath(sandbox, &rel, false)?;
    }
    // Emptying a folder can empty its parent: repeat, bounded by the depth a path can have.
    for _ in 0..2048 {
        let mut dirs = Vec::new();
        scan(sandbox_path, &config.includes, &config.excludes, |e| {
            if e.kind == EntryKind::EmptyDir && !listed(&e) {
                dirs.push(e.rel);
            }
            Ok(())
        })?;
        if dirs.is_empty() {
            break;
        }
        for rel in dirs {
            remove_beneath(sandbox, &rel, true)?;
        }
    }
    Ok(())
}

/// unlinkat/rmdir of `rel` through its parent opened beneath the sandbox (never via a link).
fn remove_beneath(sandbox: &Beneath, rel: &std::path::Path, dir: bool) -> Result<()> {
    let name = rel.file_name().ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("{} has no name", rel.display()),
        )
    })?;
    let parent = rel.parent().filter(|p| !p.as_os_str().is_empty());
    let parent_fd = match parent {
        Some(p) => Some(sandbox.open_dir(p)?),
        None => None,
    };
    let raw = parent_fd
        .as_ref()
        .map(|f| f.as_raw_fd())
        .unwrap_or_else(|| sandbox.root_fd().as_raw_fd());
    let c = CString::new(name.as_bytes())
        .map_err(|_| Error::new(ErrorCode::InvalidArgument, "name contains NUL"))?;
    // SAFETY: unlinkat(2) of one plain name in a directory fd opened beneath the sandbox.
    if unsafe { libc::unlinkat(raw, c.as_ptr(), if dir { libc::AT_REMOVEDIR } else { 0 }) } != 0 {
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::NotFound && e.raw_os_error() != Some(libc::ENOTEMPTY) {
            return Err(Error::io(&e, rel.display()));
        }
    }
    Ok(())
}

/// `{code, name}` for onRestore; "0.0.0.0-<x>" version names become ("0.0.0.0", 0).
fn hook_version(code: i64, name: &str) -> Value {
    if name.starts_with("0.0.0.0-") {
        return json!({"code": 0, "name": "0.0.0.0"});
    }
    json!({"code": code, "name": name})
}

fn c_name(name: &str) -> Result<CString> {
    CString::new(name).map_err(|_| Error::new(ErrorCode::InvalidArgument, "name contains NUL"))
}

fn open_at(dir: &OwnedFd, name: &str, flags: libc::c_int) -> Result<OwnedFd> {
    let c = c_name(name)?;
    // SAFETY: openat(2) relative to a directory fd we own; the name is one plain component
    // (validated uri or a manage.json name checked by `Beneath`), and O_NOFOLLOW refuses links.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c.as_ptr(),
            flags | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NOCTTY,
            0o600,
        )
    };
    if fd < 0 {
        let e = std::io::Error::last_os_error();
        return Err(Error::new(code_for_io(&e), format!("{name}: {e}")));
    }
    // SAFETY: just returned by openat(2).
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn create_at(dir: &OwnedFd, name: &str) -> Result<OwnedFd> {
    if name.contains('/') {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("{name:?} is not a plain file name"),
        ));
    }
    open_at(dir, name, libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC)
}

fn read_at(dir: &OwnedFd, name: &str) -> Result<Vec<u8>> {
    let mut f = File::from(open_at(dir, name, libc::O_RDONLY)?);
    let mut buf = Vec::new();
    f.read_to_end(&mut buf).map_err(|e| Error::io(&e, name))?;
    Ok(buf)
}

fn remove_at(dir: &OwnedFd, name: &str) {
    if let Ok(c) = c_name(name) {
        // SAFETY: unlinkat(2) of one name in a directory fd we own.
        unsafe { libc::unlinkat(dir.as_raw_fd(), c.as_ptr(), 0) };
    }
}
