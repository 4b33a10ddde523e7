//! Downloads against a real embedded cloud in a temp device. Cloud-only files are made the way
//! a sync run leaves them: the object put straight into the cloud, a `Position::Cloud` row.

use std::fs;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant, UNIX_EPOCH};

use super::*;
use crate::cloudsync::backend::{ChangePage, DeleteCondition, GetOptions, ObjectMeta, PutOptions};
use crate::cloudsync::cloud_error::CloudResult;
use crate::cloudsync::progress::FileSyncState;
use crate::cloudsync::progress::{DownloadErrorType, DownloadProgress, DownloadState};
use crate::cloudsync::state_db::{Dirty, FileRow, LocalStat, UploadStatus};
use crate::cloudsync::{open_cloud, MEDIA_NAMESPACE};

const BUNDLE: &str = "com.example.drive";
const WAIT: Option<Duration> = Some(Duration::from_secs(30));

struct Fx {
    _dir: tempfile::TempDir,
    device: Device,
    cloud: Arc<dyn CloudBackend>,
}

fn fx() -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("apps").join(BUNDLE);
    fs::create_dir_all(app.join("sandbox")).unwrap();
    fs::write(app.join("bundle.json"), "{}").unwrap();
    let device = Device::open(Some(dir.path())).unwrap();
    let cloud = open_cloud(&device).unwrap();
    Fx {
        _dir: dir,
        device,
        cloud,
    }
}

fn app() -> SyncScope {
    SyncScope::App(BUNDLE.into())
}

fn uri(rel: &str) -> String {
    app().uri_for(rel)
}

/// Deterministic bytes that are not one repeated value (a misplaced range would show).
fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect()
}

impl Fx {
    fn local(&self, scope: &SyncScope, rel: &str) -> std::path::PathBuf {
        scope.local_dir(&self.device).join(rel)
    }

    /// An object in the cloud with a cloud-only row for it.
    fn cloud_only(&self, scope: &SyncScope, rel: &str, bytes: &[u8], modified: i64) -> ObjectMeta {
        let meta = self
            .cloud
            .put_bytes(
                scope.namespace(),
                rel,
                bytes,
                &PutOptions::default().with_modified(modified),
            )
            .unwrap();
        self.put_row(scope, crate::cloudsync::engine::cloud_only(&meta));
        meta
    }

    /// A local file in step with a row in `upload` status.
    fn synced_local(&self, scope: &SyncScope, rel: &str, bytes: &[u8], upload: UploadStatus) {
        let meta = self
            .cloud
            .put_bytes(scope.namespace(), rel, bytes, &PutOptions::default())
            .unwrap();
        let path = self.local(scope, rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, bytes).unwrap();
        self.put_row(
            scope,
            FileRow {
                path: rel.into(),
                position: Position::Both,
                dirty: Dirty::Synced,
                upload,
                cloud_version: Some(meta.version),
                sha256: Some(meta.sha256),
                size: meta.size,
                mtime_ms: meta.modified,
                local: Some(LocalStat::of(&fs::metadata(&path).unwrap())),
            },
        );
    }

    fn put_row(&self, scope: &SyncScope, row: FileRow) {
        let mut db = StateDb::open(&self.device, scope).unwrap();
        db.write(|tx| tx.upsert(&row)).unwrap();
    }

    fn row(&self, scope: &SyncScope, rel: &str) -> Option<FileRow> {
        StateDb::open(&self.device, scope)
            .unwrap()
            .get(rel)
            .unwrap()
    }

    fn partial(&self, scope: &SyncScope, meta: &ObjectMeta) -> u64 {
        fetch::partial_len(&self.device, scope, &meta.key, &meta.version).unwrap()
    }

    fn set_device_json(&self, json: &str) {
        fs::write(self.device.root().join("device.json"), json).unwrap();
    }

    /// A cloud that serves `get` at `chunk` bytes per `pause`, counting what it sends. (The fetch
    /// looks at `stop` and reports progress once per MiB, so stop tests use files over 2 MiB.)
    fn slow(&self, chunk: usize, pause: Duration) -> Arc<SlowCloud> {
        Arc::new(SlowCloud {
            inner: self.cloud.clone(),
            chunk,
            pause,
            served: AtomicU64::new(0),
        })
    }
}

struct SlowCloud {
    inner: Arc<dyn CloudBackend>,
    chunk: usize,
    pause: Duration,
    served: AtomicU64,
}

struct SlowWriter<'a> {
    out: &'a mut dyn Write,
    cloud: &'a SlowCloud,
}

impl Write for SlowWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(self.cloud.chunk);
        thread::sleep(self.cloud.pause * n as u32 / self.cloud.chunk as u32);
        let n = self.out.write(&buf[..n])?;
        self.cloud.served.fetch_add(n as u64, Ordering::SeqCst);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl CloudBackend for SlowCloud {
    fn put(
        &self,
        ns: &str,
        key: &str,
        data: &mut dyn io::Read,
        opts: &PutOptions,
    ) -> CloudResult<ObjectMeta> {
        self.inner.put(ns, key, data, opts)
    }

    fn get(
        &self,
        ns: &str,
        key: &str,
        opts: &GetOptions,
        out: &mut dyn Write,
    ) -> CloudResult<ObjectMeta> {
        let mut w = SlowWriter { out, cloud: self };
        self.inner.get(ns, key, opts, &mut w)
    }

    fn head(&self, ns: &str, key: &str) -> CloudResult<Option<ObjectMeta>> {
        self.inner.head(ns, key)
    }

    fn list(&self, ns: &str, prefix: &str) -> CloudResult<Vec<ObjectMeta>> {
        self.inner.list(ns, prefix)
    }

    fn delete(&self, ns: &str, key: &str, condition: &DeleteCondition) -> CloudResult<()> {
        self.inner.delete(ns, key, condition)
    }

    fn changes_since(&self, ns: &str, cursor: u64, limit: usize) -> CloudResult<ChangePage> {
        self.inner.changes_since(ns, cursor, limit)
    }
}

/// Every event an instance hears, with when it heard it.
type Log = Arc<Mutex<Vec<(Instant, DownloadProgress)>>>;

fn record(d: &Downloader) -> Log {
    let log: Log = Arc::default();
    let l = log.clone();
    d.subscribe(Arc::new(move |p: &DownloadProgress| {
        l.lock().unwrap().push((Instant::now(), p.clone()));
    }));
    log
}

fn events(log: &Log) -> Vec<DownloadProgress> {
    log.lock().unwrap().iter().map(|(_, p)| p.clone()).collect()
}

fn states(log: &Log) -> Vec<DownloadState> {
    events(log).iter().map(|p| p.state).collect()
}

/// Waits until some event satisfies `f`.
fn wait_for(log: &Log, f: impl Fn(&DownloadProgress) -> bool) {
    let until = Instant::now() + Duration::from_secs(30);
    while !events(log).iter().any(&f) {
        assert!(Instant::now() < until, "no such event: {:?}", events(log));
        thread::sleep(Duration::from_millis(2));
    }
}

fn code<T: std::fmt::Debug>(r: Result<T>) -> ErrorCode {
    r.unwrap_err().code()
}

fn mtime_ms(path: &std::path::Path) -> i64 {
    fs::metadata(path)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn a_cloud_only_file_lands_complete_with_its_mtime_and_a_synced_row() {
    let fx = fx();
    let bytes = content(300_000, 1);
    let meta = fx.cloud_only(&app(), "docs/report.pdf", &bytes, 1_600_000_123_456);
    let d = Downloader::new(fx.device.clone(), DownloadKind::FileCache);
    let log = record(&d);
    let u = uri("docs/report.pdf");
    d.start(&u).unwrap();
    assert!(d.wait_idle(WAIT));

    let path = fx.local(&app(), "docs/report.pdf");
    assert_eq!(fs::read(&path).unwrap(), bytes);
    assert_eq!(mtime_ms(&path), 1_600_000_123_456);
    let row = fx.row(&app(), "docs/report.pdf").unwrap();
    assert_eq!(row.position, Position::Both);
    assert_eq!(row.dirty, Dirty::Synced);
    assert_eq!(row.upload, UploadStatus::Unknown);
    assert_eq!(row.cloud_version.as_deref(), Some(meta.version.as_str()));
    assert_eq!(row.sha256.as_deref(), Some(meta.sha256.as_str()));
    assert_eq!((row.size, row.mtime_ms), (300_000, 1_600_000_123_456));
    assert_eq!(
        row.local,
        Some(LocalStat::of(&fs::metadata(&path).unwrap()))
    );
    assert_eq!(
        file_sync_state(&fx.device, &u).unwrap(),
        FileSyncState::Completed
    );

    let ev = events(&log);
    assert!(ev.len() >= 2, "{ev:?}");
    let (last, running) = ev.split_last().unwrap();
    assert_eq!(
        *last,
        DownloadProgress {
            state: DownloadState::Completed,
            processed: 300_000,
            size: 300_000,
            uri: u.clone(),
            error: DownloadErrorType::NoError,
        }
    );
    for p in running {
        assert_eq!(
            (p.state, p.size, p.error),
            (DownloadState::Running, 300_000, DownloadErrorType::NoError)
        );
        assert_eq!(p.uri, u);
        assert!(p.processed <= p.size);
    }
    // No partial is left behind, and nothing under a temp name in the folder.
    assert_eq!(fx.partial(&app(), &meta), 0);
    let names: Vec<_> = fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("report.pdf")]);
}

#[test]
fn running_events_are_throttled_and_grow_until_the_final_one() {
    let fx = fx();
    let size = 24 * 1024 * 1024;
    let bytes = content(size, 2);
    fx.cloud_only(&app(), "big.bin", &bytes, 1_700_000_000_000);
    // 1 MiB every 30 ms: the fetch reports progress ~33 times a second, for about 0.7 s.
    let slow = fx.slow(1024 * 1024, Duration::from_millis(30));
    let d = Downloader::with_cloud(fx.device.clone(), DownloadKind::FileCache, slow.clone());
    let log = record(&d);
    let began = Instant::now();
    d.start(&uri("big.bin")).unwrap();
    assert!(d.wait_idle(WAIT));
    let took = began.elapsed();
    assert_eq!(fs::read(fx.local(&app(), "big.bin")).unwrap(), bytes);

    let all = log.lock().unwrap().clone();
    let (last, running) = all.split_last().unwrap();
    assert_eq!(last.1.state, DownloadState::Completed);
    assert_eq!((last.1.processed, last.1.size), (size as u64, size as u64));
    assert!(running
        .iter()
        .all(|(_, p)| p.state == DownloadState::Running));
    // Reported while it runs, but at most ~10 a second.
    let max = took.as_millis() as usize / 100 + 2;
    assert!(
        running.len() >= 3,
        "{} RUNNING events in {took:?}",
        running.len()
    );
    assert!(
        running.len() <= max,
        "{} RUNNING events in {took:?}",
        running.len()
    );
    for w in running.windows(2) {
        assert!(w[1].1.processed >= w[0].1.processed);
        // 100 ms apart when sent; a little less allowed for when the listener got to run.
        assert!(
            w[1].0 - w[0].0 >= Duration::from_millis(80),
            "events too close"
        );
    }
    assert!(running.last().unwrap().1.processed > 0);
}

#[test]
fn stop_keeps_the_partial_and_start_resumes_from_it() {
    let fx = fx();
    let size = 4 * 1024 * 1024;
    let bytes = content(size, 3);
    let meta = fx.cloud_only(&app(), "movie.mp4", &bytes, 1_650_000_000_000);
    let slow = fx.slow(32 * 1024, Duration::from_millis(10));
    let d = Downloader::with_cloud(fx.device.clone(), DownloadKind::FileCache, slow.clone());
    let log = record(&d);
    let u = uri("movie.mp4");
    d.start(&u).unwrap();
    wait_for(&log, |p| {
        p.state == DownloadState::Running && p.processed > 0
    });
    assert_eq!(
        file_sync_state(&fx.device, &u).unwrap(),
        FileSyncState::Downloading
    );
    d.stop(&u, false).unwrap();
    // stop returns once the download has ended: the STOPPED event is already there.
    let last = events(&log).pop().unwrap();
    assert_eq!(
        (last.state, last.error, last.uri.as_str(), last.size),
        (
            DownloadState::Stopped,
            DownloadErrorType::NoError,
            u.as_str(),
            size as u64
        )
    );
    assert!(d.wait_idle(Some(Duration::ZERO)));
    let kept = fx.partial(&app(), &meta);
    assert!(kept > 0 && kept < size as u64, "partial {kept}");
    assert!(!fx.local(&app(), "movie.mp4").exists());
    assert_eq!(
        fx.row(&app(), "movie.mp4").unwrap().position,
        Position::Cloud
    );
    assert_eq!(
        file_sync_state(&fx.device, &u).unwrap(),
        FileSyncState::Stopped
    );
    // Stopping again with nothing running is fine, and keeps the partial.
    d.stop(&u, false).unwrap();
    assert_eq!(fx.partial(&app(), &meta), kept);

    let served_before = slow.served.load(Ordering::SeqCst);
    log.lock().unwrap().clear();
    d.start(&u).unwrap();
    assert!(d.wait_idle(WAIT));
    assert_eq!(fs::read(fx.local(&app(), "movie.mp4")).unwrap(), bytes);
    let ev = events(&log);
    assert_eq!(ev[0].state, DownloadState::Running);
    assert!(
        ev[0].processed >= kept,
        "resumed from {} not {kept}",
        ev[0].processed
    );
    assert_eq!(ev.last().unwrap().state, DownloadState::Completed);
    // Only the rest came down the second time.
    let second = slow.served.load(Ordering::SeqCst) - served_before;
    assert!(
        second <= size as u64 - kept + 64 * 1024,
        "served {second} again"
    );
    assert_eq!(
        fx.row(&app(), "movie.mp4").unwrap().position,
        Position::Both
    );
}

#[test]
fn stop_with_need_clean_deletes_the_partial() {
    let fx = fx();
    let bytes = content(4 * 1024 * 1024, 4);
    let meta = fx.cloud_only(&app(), "a.bin", &bytes, 1_650_000_000_000);
    let slow = fx.slow(32 * 1024, Duration::from_millis(10));
    let d = Downloader::with_cloud(fx.device.clone(), DownloadKind::FileCache, slow);
    let log = record(&d);
    let u = uri("a.bin");
    d.start(&u).unwrap();
    wait_for(&log, |p| p.processed > 0);
    d.stop(&u, true).unwrap();
    assert_eq!(states(&log).last(), Some(&DownloadState::Stopped));
    assert_eq!(fx.partial(&app(), &meta), 0);
    assert_eq!(
        file_sync_state(&fx.device, &u).unwrap(),
        FileSyncState::Completed
    );

    // Kept by a plain stop, then cleaned by a later stop with needClean and nothing running.
    log.lock().unwrap().clear();
    d.start(&u).unwrap();
    wait_for(&log, |p| {
        p.state == DownloadState::Running && p.processed > 0
    });
    d.stop(&u, false).unwrap();
    assert!(fx.partial(&app(), &meta) > 0);
    d.stop(&u, true).unwrap();
    assert_eq!(fx.partial(&app(), &meta), 0);
    assert!(!fx.local(&app(), "a.bin").exists());
}

#[test]
fn gallery_download_stop_always_cleans() {
    let fx = fx();
    let bytes = content(4 * 1024 * 1024, 5);
    let meta = fx.cloud_only(
        &SyncScope::Gallery,
        "Camera/IMG_1.jpg",
        &bytes,
        1_650_000_000_000,
    );
    let slow = fx.slow(32 * 1024, Duration::from_millis(10));
    let d = Downloader::with_cloud(fx.device.clone(), DownloadKind::Gallery, slow);
    let log = record(&d);
    let u = SyncScope::Gallery.uri_for("Camera/IMG_1.jpg");
    assert!(u.starts_with("file://media/"));
    d.start(&u).unwrap();
    wait_for(&log, |p| p.processed > 0);
    d.stop(&u, false).unwrap();
    assert_eq!(states(&log).last(), Some(&DownloadState::Stopped));
    assert_eq!(fx.partial(&SyncScope::Gallery, &meta), 0);

    // And to the end, into <root>/media/.
    d.start(&u).unwrap();
    assert!(d.wait_idle(WAIT));
    assert_eq!(
        fs::read(fx.device.root().join("media/Camera/IMG_1.jpg")).unwrap(),
        bytes
    );
    assert_eq!(states(&log).last(), Some(&DownloadState::Completed));
    let row = fx.row(&SyncScope::Gallery, "Camera/IMG_1.jpg").unwrap();
    assert_eq!(row.position, Position::Both);
    assert_eq!(MEDIA_NAMESPACE, SyncScope::Gallery.namespace());
}

#[test]
fn two_starts_of_one_file_share_one_download() {
    let fx = fx();
    let size = 1024 * 1024;
    let bytes = content(size, 6);
    fx.cloud_only(&app(), "shared.bin", &bytes, 1_650_000_000_000);
    let slow = fx.slow(32 * 1024, Duration::from_millis(5));
    let a = Downloader::with_cloud(fx.device.clone(), DownloadKind::FileCache, slow.clone());
    let b = Downloader::with_cloud(fx.device.clone(), DownloadKind::FileCache, slow.clone());
    let (la, lb) = (record(&a), record(&b));
    let u = uri("shared.bin");
    a.start(&u).unwrap();
    a.start(&u).unwrap(); // the same instance twice: still one download, one set of events
    b.start(&u).unwrap();
    assert!(a.wait_idle(WAIT) && b.wait_idle(WAIT));
    assert_eq!(
        slow.served.load(Ordering::SeqCst),
        size as u64,
        "fetched once"
    );
    for log in [&la, &lb] {
        let s = states(log);
        assert_eq!(
            s.iter().filter(|s| **s == DownloadState::Completed).count(),
            1,
            "{s:?}"
        );
        assert_eq!(s.last(), Some(&DownloadState::Completed));
    }
    assert_eq!(fs::read(fx.local(&app(), "shared.bin")).unwrap(), bytes);
}

#[test]
fn an_instance_dropped_mid_download_does_not_abort_the_shared_one() {
    let fx = fx();
    let bytes = content(4 * 1024 * 1024, 7);
    fx.cloud_only(&app(), "x.bin", &bytes, 1_650_000_000_000);
    let slow = fx.slow(32 * 1024, Duration::from_millis(5));
    let a = Downloader::with_cloud(fx.device.clone(), DownloadKind::FileCache, slow.clone());
    let b = Downloader::new(fx.device.clone(), DownloadKind::FileCache);
    let (la, lb) = (record(&a), record(&b));
    let u = uri("x.bin");
    a.start(&u).unwrap();
    b.start(&u).unwrap();
    wait_for(&la, |p| p.processed > 0);
    drop(a);
    assert!(b.wait_idle(WAIT));
    assert_eq!(states(&lb).last(), Some(&DownloadState::Completed));
    assert_eq!(fs::read(fx.local(&app(), "x.bin")).unwrap(), bytes);
    assert!(states(&la).iter().all(|s| *s == DownloadState::Running));
}

#[test]
fn a_local_file_completes_at_once_and_listeners_can_be_removed() {
    let fx = fx();
    fx.synced_local(&app(), "here.txt", b"hello", UploadStatus::UploadSuccess);
    let d = Downloader::new(fx.device.clone(), DownloadKind::FileCache);
    let log = record(&d);
    let gone: Log = Arc::default();
    let g = gone.clone();
    let id = d.subscribe(Arc::new(move |p: &DownloadProgress| {
        g.lock().unwrap().push((Instant::now(), p.clone()));
    }));
    let u = uri("here.txt");
    assert!(d.unsubscribe(id));
    assert!(!d.unsubscribe(id));
    d.start(&u).unwrap();
    assert!(d.wait_idle(WAIT));
    assert_eq!(
        events(&log),
        vec![DownloadProgress {
            state: DownloadState::Completed,
            processed: 5,
            size: 5,
            uri: u.clone(),
            error: DownloadErrorType::NoError,
        }]
    );
    assert!(events(&gone).is_empty());
    d.unsubscribe_all();
    d.start(&u).unwrap();
    assert!(d.wait_idle(WAIT));
    assert_eq!(events(&log).len(), 1);
}

#[test]
fn clean_cache_makes_a_synced_file_cloud_only_and_start_brings_it_back() {
    let fx = fx();
    let bytes = content(100_000, 8);
    fx.cloud_only(&app(), "notes/n.txt", &bytes, 1_650_000_000_000);
    let d = Downloader::new(fx.device.clone(), DownloadKind::FileCache);
    let log = record(&d);
    let u = uri("notes/n.txt");
    d.start(&u).unwrap();
    assert!(d.wait_idle(WAIT));
    let path = fx.local(&app(), "notes/n.txt");
    assert!(path.exists());

    d.clean_cache(&u).unwrap();
    assert!(!path.exists());
    let names: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert!(names.is_empty(), "left behind: {names:?}");
    let row = fx.row(&app(), "notes/n.txt").unwrap();
    assert_eq!((row.position, row.local), (Position::Cloud, None));
    assert_eq!(row.size, 100_000);
    assert_eq!(
        file_sync_state(&fx.device, &u).unwrap(),
        FileSyncState::Completed
    );
    // Again on a cloud-only file: nothing to free, not an error.
    d.clean_cache(&u).unwrap();

    log.lock().unwrap().clear();
    d.start(&u).unwrap();
    assert!(d.wait_idle(WAIT));
    assert_eq!(fs::read(&path).unwrap(), bytes);
    assert_eq!(states(&log).last(), Some(&DownloadState::Completed));
    assert_eq!(
        fx.row(&app(), "notes/n.txt").unwrap().position,
        Position::Both
    );
}

#[test]
fn clean_cache_refuses_changes_not_uploaded_and_bad_names() {
    let fx = fx();
    let d = Downloader::new(fx.device.clone(), DownloadKind::FileCache);
    // Edited since its last sync.
    fx.synced_local(&app(), "edited.txt", b"v1", UploadStatus::UploadSuccess);
    let edited = fx.local(&app(), "edited.txt");
    fs::write(&edited, b"v2 longer").unwrap();
    let e = d.clean_cache(&uri("edited.txt")).unwrap_err();
    assert_eq!(e.code(), ErrorCode::OperationNotPermitted);
    assert!(e.message().contains("not uploaded"), "{}", e.message());
    assert_eq!(fs::read(&edited).unwrap(), b"v2 longer");
    assert_eq!(
        fx.row(&app(), "edited.txt").unwrap().position,
        Position::Both
    );
    // Marked dirty by a scan.
    fx.synced_local(&app(), "dirty.txt", b"d", UploadStatus::ToBeUploaded);
    let mut row = fx.row(&app(), "dirty.txt").unwrap();
    row.dirty = Dirty::Modified;
    fx.put_row(&app(), row);
    assert_eq!(
        code(d.clean_cache(&uri("dirty.txt"))),
        ErrorCode::OperationNotPermitted
    );
    assert!(fx.local(&app(), "dirty.txt").exists());
    // New, never uploaded (no row).
    fs::write(fx.local(&app(), "new.txt"), b"n").unwrap();
    assert_eq!(
        code(d.clean_cache(&uri("new.txt"))),
        ErrorCode::OperationNotPermitted
    );
    assert!(fx.local(&app(), "new.txt").exists());
    // Missing, and not a file of this folder.
    assert_eq!(
        code(d.clean_cache(&uri("nothing.txt"))),
        ErrorCode::NoSuchFile
    );
    assert_eq!(
        code(d.clean_cache("file://com.example.drive/data/storage/el2/base/x.txt")),
        ErrorCode::InvalidUri
    );
    assert_eq!(
        code(d.clean_cache("file://media/x.jpg")),
        ErrorCode::InvalidUri
    );
}

#[test]
fn missing_files_are_13900002() {
    let fx = fx();
    let d = Downloader::new(fx.device.clone(), DownloadKind::FileCache);
    let log = record(&d);
    assert_eq!(code(d.start(&uri("nope.txt"))), ErrorCode::NoSuchFile);
    assert_eq!(
        code(file_sync_state(&fx.device, &uri("nope.txt"))),
        ErrorCode::NoSuchFile
    );
    // Deleted on this device, deletion not synced yet: not brought back.
    fx.synced_local(&app(), "deleted.txt", b"x", UploadStatus::UploadSuccess);
    fs::remove_file(fx.local(&app(), "deleted.txt")).unwrap();
    assert_eq!(code(d.start(&uri("deleted.txt"))), ErrorCode::NoSuchFile);
    // A folder is not a file.
    fs::create_dir_all(fx.local(&app(), "dir")).unwrap();
    assert_eq!(code(d.start(&uri("dir"))), ErrorCode::NoSuchFile);
    // In the state but gone from the cloud: accepted, then FAILED with CONTENT_NOT_FOUND.
    fx.cloud_only(&app(), "gone.txt", b"soon gone", 1_650_000_000_000);
    fx.cloud
        .delete(BUNDLE, "gone.txt", &DeleteCondition::Always)
        .unwrap();
    d.start(&uri("gone.txt")).unwrap();
    assert!(d.wait_idle(WAIT));
    let last = events(&log).pop().unwrap();
    assert_eq!(
        (last.state, last.error, last.uri),
        (
            DownloadState::Failed,
            DownloadErrorType::ContentNotFound,
            uri("gone.txt")
        )
    );
    assert!(!fx.local(&app(), "gone.txt").exists());
    assert!(events(&log).len() == 1);
}

#[test]
fn uris_outside_the_cloud_folder_are_14000002() {
    let fx = fx();
    let cache = Downloader::new(fx.device.clone(), DownloadKind::FileCache);
    let gallery = Downloader::new(fx.device.clone(), DownloadKind::Gallery);
    fx.cloud_only(&app(), "ok.txt", b"ok", 1);
    for bad in [
        "file://com.example.drive/data/storage/el2/base/files/a.txt",
        "file://com.example.drive/data/storage/el2/cloud/../base/a.txt",
        "file://com.example.other/data/storage/el2/cloud/a.txt",
        "/data/storage/el2/cloud/a.txt",
        "datashare://media/Photo/1",
    ] {
        assert_eq!(code(cache.start(bad)), ErrorCode::InvalidUri, "{bad}");
        assert_eq!(code(cache.stop(bad, false)), ErrorCode::InvalidUri, "{bad}");
        assert_eq!(code(gallery.start(bad)), ErrorCode::InvalidUri, "{bad}");
        assert_eq!(
            code(file_sync_state(&fx.device, bad)),
            ErrorCode::InvalidUri,
            "{bad}"
        );
    }
    // Each class takes its own kind of URI only.
    assert_eq!(
        code(cache.start("file://media/Photo/1.jpg")),
        ErrorCode::InvalidUri
    );
    assert_eq!(code(gallery.start(&uri("ok.txt"))), ErrorCode::InvalidUri);
    assert_eq!(
        code(gallery.stop(&uri("ok.txt"), false)),
        ErrorCode::InvalidUri
    );
    // A stop of a valid URI with nothing running is fine.
    cache.stop(&uri("ok.txt"), false).unwrap();
    cache.stop(&uri("never-heard-of.txt"), true).unwrap();
    gallery.stop("file://media/none.jpg", false).unwrap();
}

#[test]
fn file_sync_states_map_every_state() {
    let fx = fx();
    let s = app();
    fx.synced_local(&s, "tbu.txt", b"1", UploadStatus::ToBeUploaded);
    fx.synced_local(&s, "uploading.txt", b"2", UploadStatus::Uploading);
    fx.synced_local(&s, "failed.txt", b"3", UploadStatus::UploadFailure);
    fx.synced_local(&s, "ok.txt", b"4", UploadStatus::UploadSuccess);
    fx.synced_local(&s, "fromcloud.txt", b"5", UploadStatus::Unknown);
    fx.synced_local(&s, "edited.txt", b"6", UploadStatus::UploadSuccess);
    fs::write(fx.local(&s, "edited.txt"), b"6 and more").unwrap();
    fs::write(fx.local(&s, "new.txt"), b"7").unwrap();
    fx.cloud_only(&s, "cloudonly.txt", b"8", 1);
    fx.synced_local(
        &SyncScope::Gallery,
        "Camera/p.jpg",
        b"9",
        UploadStatus::UploadSuccess,
    );
    // A stopped download (partial kept) and a running one.
    let big = content(4 * 1024 * 1024, 9);
    fx.cloud_only(&s, "stopped.bin", &big, 1);
    fx.cloud_only(&s, "running.bin", &big, 1);
    let slow = fx.slow(16 * 1024, Duration::from_millis(10));
    let d = Downloader::with_cloud(fx.device.clone(), DownloadKind::FileCache, slow);
    let log = record(&d);
    d.start(&uri("stopped.bin")).unwrap();
    wait_for(&log, |p| p.processed > 0);
    d.stop(&uri("stopped.bin"), false).unwrap();
    d.start(&uri("running.bin")).unwrap();

    let names = [
        "tbu.txt",
        "uploading.txt",
        "failed.txt",
        "ok.txt",
        "fromcloud.txt",
        "edited.txt",
        "new.txt",
        "cloudonly.txt",
        "stopped.bin",
        "running.bin",
    ];
    let mut uris: Vec<String> = names.iter().map(|n| uri(n)).collect();
    uris.push(SyncScope::Gallery.uri_for("Camera/p.jpg"));
    let got: Vec<i32> = file_sync_states(&fx.device, &uris)
        .unwrap()
        .into_iter()
        .map(|s| s as i32)
        .collect();
    // TO_BE_UPLOADED 4, UPLOADING 0, UPLOAD_FAILURE 6, UPLOAD_SUCCESS 5, COMPLETED 2,
    // edited → 4, new → 4, cloud-only → 2, STOPPED 3, DOWNLOADING 1; gallery too.
    assert_eq!(got, vec![4, 0, 6, 5, 2, 4, 4, 2, 3, 1, 5]);
    assert_eq!(
        file_sync_state(&fx.device, &uri("uploading.txt")).unwrap(),
        FileSyncState::Uploading
    );
    d.stop(&uri("running.bin"), true).unwrap();
    assert!(d.wait_idle(WAIT));
    assert_eq!(
        file_sync_state(&fx.device, &uri("running.bin")).unwrap(),
        FileSyncState::Completed
    );

    // One bad or missing URI fails the whole batch; more than 100 is 401; none is fine.
    uris.push(uri("missing.txt"));
    assert_eq!(
        code(file_sync_states(&fx.device, &uris)),
        ErrorCode::NoSuchFile
    );
    uris.pop();
    uris.push("file://com.example.drive/data/storage/el2/base/a".into());
    assert_eq!(
        code(file_sync_states(&fx.device, &uris)),
        ErrorCode::InvalidUri
    );
    let many = vec![uri("ok.txt"); MAX_SYNC_STATE_URIS + 1];
    assert_eq!(
        code(file_sync_states(&fx.device, &many)),
        ErrorCode::ParameterError
    );
    assert_eq!(
        file_sync_states(&fx.device, &many[..MAX_SYNC_STATE_URIS])
            .unwrap()
            .len(),
        MAX_SYNC_STATE_URIS
    );
    assert!(file_sync_states(&fx.device, &[]).unwrap().is_empty());
}

#[test]
fn no_local_space_is_13900025_and_no_network_fails_the_download() {
    let fx = fx();
    fx.cloud_only(&app(), "big.bin", &content(50_000, 10), 1);
    let d = Downloader::new(fx.device.clone(), DownloadKind::FileCache);
    let log = record(&d);
    fx.set_device_json(r#"{"localFreeBytes": 1000}"#);
    let e = d.start(&uri("big.bin")).unwrap_err();
    assert_eq!(e.code(), ErrorCode::NoSpace);
    assert_eq!(e.code().code(), 13900025);
    assert!(!fx.local(&app(), "big.bin").exists());

    fx.set_device_json(r#"{"network": "none"}"#);
    d.start(&uri("big.bin")).unwrap();
    assert!(d.wait_idle(WAIT));
    let ev = events(&log);
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(
        (ev[0].state, ev[0].error),
        (DownloadState::Failed, DownloadErrorType::NetworkUnavailable)
    );

    fx.set_device_json("{}");
    d.start(&uri("big.bin")).unwrap();
    assert!(d.wait_idle(WAIT));
    assert_eq!(states(&log).last(), Some(&DownloadState::Completed));
}

#[test]
fn a_listener_may_stop_its_own_download_and_a_panicking_one_harms_nothing() {
    let fx = fx();
    let bytes = content(4 * 1024 * 1024, 11);
    let meta = fx.cloud_only(&app(), "s.bin", &bytes, 1);
    let slow = fx.slow(32 * 1024, Duration::from_millis(5));
    let d = Downloader::with_cloud(fx.device.clone(), DownloadKind::FileCache, slow);
    d.subscribe(Arc::new(|_: &DownloadProgress| {
        panic!("a listener bug (this test expects it)")
    }));
    let log = record(&d);
    let weak = Arc::downgrade(&d);
    let u = uri("s.bin");
    let u2 = u.clone();
    d.subscribe(Arc::new(move |p: &DownloadProgress| {
        if p.state == DownloadState::Running && p.processed > 0 {
            if let Some(d) = weak.upgrade() {
                d.stop(&u2, false).unwrap(); // on the download's own thread: must not wait for itself
            }
        }
    }));
    d.start(&u).unwrap();
    assert!(d.wait_idle(WAIT));
    assert_eq!(states(&log).last(), Some(&DownloadState::Stopped));
    assert!(fx.partial(&app(), &meta) > 0);
}

#[test]
fn each_download_thread_ends_with_its_task() {
    let fx = fx();
    for i in 0..5 {
        fx.cloud_only(&app(), &format!("f{i}.txt"), &content(10_000, i as u8), 1);
    }
    let d = Downloader::new(fx.device.clone(), DownloadKind::FileCache);
    let mut tasks: Vec<Arc<Task>> = Vec::new();
    for i in 0..5 {
        d.start(&uri(&format!("f{i}.txt"))).unwrap();
        // The newest is last (finished ones are pruned at each start).
        tasks.push(lock(&d.tasks).last().unwrap().clone());
    }
    for (i, t) in tasks.iter().enumerate() {
        assert!(
            tasks[..i].iter().all(|o| !Arc::ptr_eq(o, t)),
            "five distinct downloads"
        );
    }
    assert!(d.wait_idle(WAIT));
    // The thread returns right after the final event; nothing keeps it alive.
    let until = Instant::now() + Duration::from_secs(5);
    while !tasks.iter().all(|t| t.thread_ended()) {
        assert!(
            Instant::now() < until,
            "a download thread outlived its task"
        );
        thread::sleep(Duration::from_millis(2));
    }
    assert!(tasks.iter().all(|t| t.is_finished()));
    assert!(d.wait_idle(Some(Duration::ZERO)));
}

#[test]
fn a_newer_cloud_version_than_the_placeholder_knew_is_recorded() {
    let fx = fx();
    let old = fx.cloud_only(&app(), "v.txt", b"version one", 1_000);
    let new = fx
        .cloud
        .put_bytes(
            BUNDLE,
            "v.txt",
            b"version two!",
            &PutOptions::default().with_modified(2_000),
        )
        .unwrap();
    assert_ne!(old.version, new.version);
    let d = Downloader::new(fx.device.clone(), DownloadKind::FileCache);
    d.start(&uri("v.txt")).unwrap();
    assert!(d.wait_idle(WAIT));
    assert_eq!(
        fs::read(fx.local(&app(), "v.txt")).unwrap(),
        b"version two!"
    );
    let row = fx.row(&app(), "v.txt").unwrap();
    assert_eq!(row.cloud_version, Some(new.version));
    assert_eq!(
        (row.position, row.size, row.mtime_ms),
        (Position::Both, 12, 2_000)
    );
}

#[test]
fn a_file_deleted_during_its_download_is_not_brought_back() {
    let fx = fx();
    fx.cloud_only(&app(), "del.bin", &content(4 * 1024 * 1024, 12), 1);
    let slow = fx.slow(32 * 1024, Duration::from_millis(5));
    let d = Downloader::with_cloud(fx.device.clone(), DownloadKind::FileCache, slow);
    let log = record(&d);
    d.start(&uri("del.bin")).unwrap();
    wait_for(&log, |p| p.processed > 0);
    // What a sync run does when it pulls the cloud's deletion of a cloud-only file.
    let mut db = StateDb::open(&fx.device, &app()).unwrap();
    db.write(|tx| tx.remove("del.bin")).unwrap();
    assert!(d.wait_idle(WAIT));
    let last = events(&log).pop().unwrap();
    assert_eq!(
        (last.state, last.error),
        (DownloadState::Failed, DownloadErrorType::ContentNotFound)
    );
    assert!(!fx.local(&app(), "del.bin").exists());
    assert!(fx.row(&app(), "del.bin").is_none());
}

#[test]
fn a_file_written_at_the_name_during_the_download_is_kept() {
    let fx = fx();
    fx.cloud_only(&app(), "race.txt", &content(4 * 1024 * 1024, 13), 1);
    let slow = fx.slow(32 * 1024, Duration::from_millis(5));
    let d = Downloader::with_cloud(fx.device.clone(), DownloadKind::FileCache, slow);
    let log = record(&d);
    d.start(&uri("race.txt")).unwrap();
    wait_for(&log, |p| p.processed > 0);
    let path = fx.local(&app(), "race.txt");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, b"the app wrote this").unwrap();
    assert!(d.wait_idle(WAIT));
    assert_eq!(fs::read(&path).unwrap(), b"the app wrote this");
    let last = events(&log).pop().unwrap();
    assert_eq!(
        (last.state, last.processed, last.size),
        (DownloadState::Completed, 18, 18)
    );
    // Not in step with the row: the next sync run sorts it out, and until then it is local work.
    assert_eq!(
        fx.row(&app(), "race.txt").unwrap().position,
        Position::Cloud
    );
    assert_eq!(
        file_sync_state(&fx.device, &uri("race.txt")).unwrap(),
        FileSyncState::ToBeUploaded
    );
}

#[test]
fn instances_can_be_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Downloader>();
    shared::<Arc<Downloader>>();
}
