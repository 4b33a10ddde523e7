//! End-to-end sessions through the core API, with a small client like the CLI's: backup writes
//! each fd to `<out>/<bundle>/<uri>`; restore asks a handle for every file it has and publishes.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant, UNIX_EPOCH};

use super::*;
use crate::backup::capabilities::{write_local_capabilities, IncrementalBackupTime};

const WAIT: Duration = Duration::from_secs(60);

/// Records events as short labels and acts on files like a real client.
struct Client {
    log: Mutex<Vec<String>>,
    cond: Condvar,
    out: PathBuf,
    session: OnceLock<Arc<Session>>,
    /// restore: bundle → files still to write
    pending: Mutex<BTreeMap<String, usize>>,
}

impl Client {
    fn new(out: &Path) -> Arc<Client> {
        Arc::new(Client {
            log: Mutex::new(Vec::new()),
            cond: Condvar::new(),
            out: out.to_path_buf(),
            session: OnceLock::new(),
            pending: Mutex::new(BTreeMap::new()),
        })
    }

    fn note(&self, s: String) {
        self.log.lock().unwrap().push(s);
        self.cond.notify_all();
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn wait_for(&self, label: &str) -> Vec<String> {
        let deadline = Instant::now() + WAIT;
        let mut log = self.log.lock().unwrap();
        while !log.iter().any(|l| l == label) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out waiting for {label}; got {:?}",
                *log
            );
            log = self.cond.wait_timeout(log, left).unwrap().0;
        }
        log.clone()
    }

    fn files_of(&self, bundle: &str) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.out.join(bundle))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.ends_with(".rp")) // item manifests travel beside their item
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

impl EventSink for Client {
    fn deliver(&self, event: SessionEvent) {
        match event {
            SessionEvent::FileReady(Ok(f)) => {
                let session = self.session.get().cloned();
                if session.as_ref().map(|s| s.scenario()) == Some(Scenario::Restore) {
                    // Restore: fill the fd from the backup folder, then publish when all are in.
                    let mut src =
                        fs::File::open(self.out.join(&f.bundle_name).join(&f.uri)).unwrap();
                    let mut dst = fs::File::from(f.fd);
                    std::io::copy(&mut src, &mut dst).unwrap();
                    drop(dst);
                    if let (Some(m), Ok(mut rp)) = (
                        f.manifest_fd,
                        fs::File::open(self.out.join(&f.bundle_name).join(format!("{}.rp", f.uri))),
                    ) {
                        std::io::copy(&mut rp, &mut fs::File::from(m)).unwrap();
                    }
                    self.note(format!("file:{}:{}", f.bundle_name, f.uri));
                    let left = {
                        let mut p = self.pending.lock().unwrap();
                        let n = p.get_mut(&f.bundle_name).unwrap();
                        *n -= 1;
                        *n
                    };
                    if left == 0 {
                        session.unwrap().publish_file(&f.bundle_name, "").unwrap();
                    }
                } else {
                    let dir = self.out.join(&f.bundle_name);
                    fs::create_dir_all(&dir).unwrap();
                    let mut src = fs::File::from(f.fd);
                    let mut dst = fs::File::create(dir.join(&f.uri)).unwrap();
                    std::io::copy(&mut src, &mut dst).unwrap();
                    if let Some(m) = f.manifest_fd {
                        let mut m = fs::File::from(m);
                        std::io::copy(
                            &mut m,
                            &mut fs::File::create(dir.join(format!("{}.rp", f.uri))).unwrap(),
                        )
                        .unwrap();
                    }
                    self.note(format!("file:{}:{}", f.bundle_name, f.uri));
                }
            }
            SessionEvent::FileReady(Err(e)) => self.note(format!("file-err:{}", e.code().code())),
            SessionEvent::BundleBegin(Ok(b)) => {
                self.note(format!("begin:{b}"));
                if let Some(s) = self
                    .session
                    .get()
                    .filter(|s| s.scenario() == Scenario::Restore)
                {
                    let files = self.files_of(&b);
                    self.pending.lock().unwrap().insert(b.clone(), files.len());
                    for f in files {
                        s.get_file_handle(&b, &f).unwrap();
                    }
                }
            }
            SessionEvent::BundleBegin(Err(e)) => self.note(format!(
                "begin-err:{}:{}",
                e.code().code(),
                e.data().unwrap_or("?")
            )),
            SessionEvent::BundleEnd(Ok(b)) => self.note(format!("end:{b}")),
            SessionEvent::BundleEnd(Err(e)) => self.note(format!(
                "end-err:{}:{}",
                e.code().code(),
                e.data().unwrap_or("?")
            )),
            SessionEvent::AllBundlesEnd(r) => self.note(if r.is_ok() {
                "all".into()
            } else {
                "all-err".into()
            }),
            SessionEvent::ServiceDied => self.note("died".into()),
            SessionEvent::ResultReport { bundle, result } => {
                self.note(format!("report:{bundle}:{result}"))
            }
            SessionEvent::BackupSizeReport(r) => self.note(format!("size:{r}")),
            SessionEvent::Process { bundle, process } => {
                self.note(format!("process:{bundle}:{}", process.replace('\n', "")))
            }
        }
    }
}

fn open_session(root: &Path, scenario: Scenario, client: &Arc<Client>) -> Result<Arc<Session>> {
    let device = Device::open(Some(root))?;
    let mut config = ServiceConfig::from_env();
    config.caller_name = "session-test".into();
    config.extension.start_timeout = Duration::from_secs(10);
    let s = Arc::new(Session::new(device, scenario, config, client.clone())?);
    let _ = client.session.set(s.clone());
    Ok(s)
}

fn install(root: &Path, name: &str, bundle: &str, config: &str) {
    let dir = root.join("apps").join(name);
    fs::create_dir_all(dir.join("sandbox")).unwrap();
    fs::write(dir.join("bundle.json"), bundle).unwrap();
    fs::write(dir.join("backup_config.json"), config).unwrap();
}

fn put(root: &Path, app: &str, rel: &str, data: &[u8], mode: u32, mtime: u64) {
    let p = root.join("apps").join(app).join("sandbox").join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, data).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    let f = fs::File::options().write(true).open(&p).unwrap();
    f.set_modified(UNIX_EPOCH + Duration::from_secs(mtime))
        .unwrap();
}

/// (relative path → (kind, content hash-ish, mode, mtime)) of a sandbox, for equality checks.
fn tree(dir: &Path) -> BTreeMap<String, (bool, Vec<u8>, u32, i64)> {
    let mut out = BTreeMap::new();
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, (bool, Vec<u8>, u32, i64)>) {
        for e in fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            if rel.contains(".backup") {
                continue;
            }
            let m = fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                out.insert(rel, (true, vec![], m.mode() & 0o7777, 0));
                walk(base, &p, out);
            } else {
                out.insert(
                    rel,
                    (false, fs::read(&p).unwrap(), m.mode() & 0o7777, m.mtime()),
                );
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

const APP: &str = r#"{"versionCode": 1000000, "versionName": "1.0.0"}"#;
const ALLOW: &str = r#"{"allowToBackupRestore": true}"#;

fn sample_app(root: &Path, name: &str) {
    install(root, name, APP, ALLOW);
    put(
        root,
        name,
        "data/storage/el2/base/files/a.txt",
        b"alpha",
        0o640,
        1_600_000_000,
    );
    put(
        root,
        name,
        "data/storage/el2/base/files/deep/er/b.bin",
        &[7u8; 5000],
        0o600,
        1_600_000_100,
    );
    put(
        root,
        name,
        "data/storage/el2/base/preferences/p.xml",
        b"<p/>",
        0o644,
        1_600_000_200,
    );
    let big: Vec<u8> = (0..3 * 1024 * 1024 + 17).map(|i| (i % 251) as u8).collect();
    put(
        root,
        name,
        "data/storage/el2/database/big.db",
        &big,
        0o600,
        1_600_000_300,
    );
    fs::create_dir_all(
        root.join("apps")
            .join(name)
            .join("sandbox/data/storage/el2/base/files/empty/dir"),
    )
    .unwrap();
}

fn backup(root: &Path, out: &Path, names: &[&str]) -> Vec<String> {
    let client = Client::new(out);
    let s = open_session(root, Scenario::Backup, &client).unwrap();
    s.append_backup_bundles(
        &names.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        None,
    )
    .unwrap();
    let log = client.wait_for("all");
    s.release().unwrap();
    log
}

fn restore(root: &Path, caps_root: &Path, out: &Path, names: &[&str]) -> Vec<String> {
    let client = Client::new(out);
    let caps = write_local_capabilities(&Device::open(Some(caps_root)).unwrap()).unwrap();
    let s = open_session(root, Scenario::Restore, &client).unwrap();
    s.append_restore_bundles(
        &caps,
        &names.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        None,
    )
    .unwrap();
    let log = client.wait_for("all");
    s.release().unwrap();
    log
}

#[test]
fn a_clone_round_trip_equals_the_source_with_modes_mtimes_and_empty_dirs() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    sample_app(a.path(), "com.example.notes");
    install(b.path(), "com.example.notes", APP, ALLOW);
    let log = backup(a.path(), out.path(), &["com.example.notes"]);
    let files = client_files(&log, "com.example.notes");
    assert_eq!(
        files.last().map(String::as_str),
        Some("manage.json"),
        "manage.json comes last: {log:?}"
    );
    assert!(files.contains(&"part.1.tar".to_string()));
    assert_eq!(
        files.iter().filter(|f| f.ends_with(".db")).count(),
        1,
        "the big file travels alone: {files:?}"
    );
    let rlog = restore(b.path(), a.path(), out.path(), &["com.example.notes"]);
    assert!(
        rlog.contains(&"end:com.example.notes".to_string()),
        "{rlog:?}"
    );
    let src = tree(&a.path().join("apps/com.example.notes/sandbox"));
    let dst = tree(&b.path().join("apps/com.example.notes/sandbox"));
    assert_eq!(
        src.keys().collect::<Vec<_>>(),
        dst.keys().collect::<Vec<_>>()
    );
    for (k, v) in &src {
        assert_eq!(Some(v), dst.get(k), "{k} differs");
    }
    assert!(dst.contains_key("data/storage/el2/base/files/empty/dir"));
    // Nothing left in the restore folder, no temp file anywhere.
    let leftovers: Vec<_> = walkdir(&b.path().join("apps/com.example.notes/sandbox"))
        .into_iter()
        .filter(|p| p.contains(".ohfile-tmp-") || p.contains(".backup/restore/"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn walkdir(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            out.push(e.path().to_string_lossy().into_owned());
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                out.extend(walkdir(&e.path()));
            }
        }
    }
    out
}

fn client_files(log: &[String], bundle: &str) -> Vec<String> {
    let prefix = format!("file:{bundle}:");
    log.iter()
        .filter_map(|l| l.strip_prefix(&prefix).map(str::to_string))
        .collect()
}

fn position(log: &[String], label: &str) -> usize {
    log.iter()
        .position(|l| l == label)
        .unwrap_or_else(|| panic!("{label} missing from {log:?}"))
}

#[test]
fn callbacks_come_in_the_documented_order_for_one_and_three_bundles() {
    for n in [1usize, 3] {
        let a = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let names: Vec<String> = (0..n).map(|i| format!("com.example.app{i}")).collect();
        for name in &names {
            sample_app(a.path(), name);
        }
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let log = backup(a.path(), out.path(), &refs);
        let all = position(&log, "all");
        assert_eq!(all, log.len() - 1, "onAllBundlesEnd is last: {log:?}");
        assert_eq!(log.iter().filter(|l| *l == "all").count(), 1);
        for name in &names {
            let begin = position(&log, &format!("begin:{name}"));
            let manage = position(&log, &format!("file:{name}:manage.json"));
            let end = position(&log, &format!("end:{name}"));
            assert!(begin < manage && manage < end && end < all, "{log:?}");
            for (i, l) in log.iter().enumerate() {
                if l.starts_with(&format!("file:{name}:")) {
                    assert!(begin < i && i <= manage, "{l} outside its bundle: {log:?}");
                }
            }
        }
    }
}

#[test]
fn unknown_and_not_allowed_bundles_fail_their_begin_with_the_bundle_as_data() {
    let a = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    install(
        a.path(),
        "com.example.closed",
        APP,
        r#"{"allowToBackupRestore": false}"#,
    );
    sample_app(a.path(), "com.example.open");
    let log = backup(
        a.path(),
        out.path(),
        &[
            "com.example.missing",
            "com.example.closed",
            "com.example.open",
        ],
    );
    assert!(
        log.contains(&"begin-err:13500005:com.example.missing".to_string()),
        "{log:?}"
    );
    assert!(
        log.contains(&"begin-err:13500001:com.example.closed".to_string()),
        "{log:?}"
    );
    assert!(!log
        .iter()
        .any(|l| l.starts_with("end") && l.contains("closed")));
    assert!(log.contains(&"end:com.example.open".to_string()));
    // Only rejected bundles: the client still hears that nothing is left.
    let log = backup(a.path(), out.path(), &["com.example.missing"]);
    assert_eq!(
        log,
        vec![
            "begin-err:13500005:com.example.missing".to_string(),
            "all".to_string()
        ]
    );
}

#[test]
fn one_session_per_device_and_no_calls_after_release() {
    let a = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let c1 = Client::new(out.path());
    let s = open_session(a.path(), Scenario::Backup, &c1).unwrap();
    let e = open_session(a.path(), Scenario::Restore, &Client::new(out.path()))
        .err()
        .unwrap();
    assert_eq!(e.code(), ErrorCode::SessionConflict);
    assert!(e.detail().contains("\"Session Conflict\""));
    // Wrong kind of call.
    assert_eq!(
        s.get_file_handle("com.a", "x").unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
    s.release().unwrap();
    assert_eq!(
        s.append_backup_bundles(&["com.a".into()], None)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidArgument
    );
    assert_eq!(s.release().unwrap_err().code(), ErrorCode::InvalidArgument);
    // The device is free again.
    let s2 = open_session(a.path(), Scenario::Restore, &Client::new(out.path())).unwrap();
    drop(s2);
}

#[test]
fn timer_and_send_rate_arguments_are_checked() {
    assert_eq!(
        update_timer("com.none", -1).unwrap_err().code(),
        ErrorCode::ParameterError
    );
    assert_eq!(
        update_timer("com.none", MAX_TIMEOUT_MS + 1)
            .unwrap_err()
            .code(),
        ErrorCode::ParameterError
    );
    assert!(!update_timer("com.none", 1000).unwrap());
    assert!(!update_timer("com.none", MAX_TIMEOUT_MS).unwrap());
    assert_eq!(
        update_send_rate("com.none", -5).unwrap_err().code(),
        ErrorCode::ParameterError
    );
    assert!(!update_send_rate("com.none", 20_000).unwrap());
}

#[test]
fn restore_rejects_bad_capabilities_uris_and_publish_with_a_uri() {
    let b = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    install(b.path(), "com.example.notes", APP, ALLOW);
    let client = Client::new(out.path());
    let s = open_session(b.path(), Scenario::Restore, &client).unwrap();
    let mut bad = tempfile::tempfile().unwrap();
    bad.write_all(br#"{"bundleInfos":[{"name":"com.example.notes"}]}"#)
        .unwrap();
    let e = s
        .append_restore_bundles(&bad, &["com.example.notes".into(), "com.x.y".into()], None)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
    let log = client.wait_for("begin-err:13500005:com.x.y");
    assert_eq!(
        log,
        vec![
            "begin-err:13500005:com.example.notes".to_string(),
            "begin-err:13500005:com.x.y".to_string()
        ]
    );
    assert_eq!(
        crate::backup::capabilities::capabilities_file_from_fd(-1)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        crate::backup::capabilities::capabilities_file_from_fd(987_654)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidArgument
    );
    for uri in ["../x", "a/b", "", "..", "name with space", "é"] {
        assert_eq!(
            s.get_file_handle("com.example.notes", uri)
                .unwrap_err()
                .code(),
            ErrorCode::InvalidArgument,
            "{uri:?}"
        );
    }
    assert_eq!(
        s.get_file_handle("com.example.notes", "part.1.tar")
            .unwrap_err()
            .code(),
        ErrorCode::InvalidArgument,
        "not in the session"
    );
    assert_eq!(
        s.publish_file("com.example.notes", "x").unwrap_err().code(),
        ErrorCode::OperationNotPermitted
    );
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/extensions")
        .join(name)
        .canonicalize()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn install_exec(root: &Path, name: &str, script: &str) {
    let bundle = format!(
        r#"{{"versionCode": 1, "versionName": "1.0", "extension": {{"name": "BackupExtensionAbility", "exec": ["python3", "{}"]}}}}"#,
        fixture(script)
    );
    install(root, name, &bundle, ALLOW);
    put(
        root,
        name,
        "data/storage/el2/base/files/a.txt",
        b"alpha",
        0o640,
        1_600_000_000,
    );
}

#[test]
fn extension_hooks_report_results_and_failures() {
    let a = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    install_exec(a.path(), "com.example.good", "well_behaved.py");
    install_exec(a.path(), "com.example.throws", "throws.py");
    install_exec(a.path(), "com.example.dies", "exits.py");
    fs::create_dir_all(
        a.path()
            .join("apps/com.example.dies/sandbox/data/storage/el2/base/.backup/backup"),
    )
    .unwrap();
    let log = backup(
        a.path(),
        out.path(),
        &["com.example.good", "com.example.throws", "com.example.dies"],
    );
    assert!(log.contains(&"end:com.example.good".to_string()), "{log:?}");
    assert!(
        log.iter()
            .any(|l| l.starts_with("report:com.example.good:")),
        "{log:?}"
    );
    assert!(
        log.contains(&"end-err:13500007:com.example.throws".to_string()),
        "{log:?}"
    );
    let report = log
        .iter()
        .find(|l| l.starts_with("report:com.example.throws:"))
        .expect("ErrorInfo report");
    assert!(
        report.contains("\"type\":\"ErrorInfo\"") && report.contains("disk on fire"),
        "{report}"
    );
    assert!(
        log.contains(&"end-err:13500004:com.example.dies".to_string()),
        "{log:?}"
    );
    assert!(
        !a.path()
            .join("apps/com.example.dies/sandbox/data/storage/el2/base/.backup/backup")
            .exists(),
        "temp data cleaned"
    );
}

#[test]
fn a_hanging_hook_times_out_and_update_timer_zero_ends_it_now() {
    let a = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    install_exec(a.path(), "com.example.hangs", "hangs.py");
    let client = Client::new(out.path());
    let s = open_session(a.path(), Scenario::Backup, &client).unwrap();
    s.append_backup_bundles(&["com.example.hangs".into()], None)
        .unwrap();
    client.wait_for("begin:com.example.hangs");
    assert!(
        update_timer("com.example.hangs", 500).unwrap(),
        "a running bundle takes a new timer"
    );
    let t0 = Instant::now();
    let log = client.wait_for("all");
    assert!(t0.elapsed() < Duration::from_secs(10));
    assert!(
        log.contains(&"end-err:13500003:com.example.hangs".to_string()),
        "{log:?}"
    );
    assert!(
        !update_timer("com.example.hangs", 500).unwrap(),
        "not running any more"
    );
    s.release().unwrap();
}

#[test]
fn an_extension_that_never_starts_fails_begin_with_13500002() {
    let a = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let bundle = format!(
        r#"{{"versionCode": 1, "versionName": "1.0", "extension": {{"exec": ["sh", "{}"]}}}}"#,
        fixture("never_ready.sh")
    );
    install(a.path(), "com.example.slow", &bundle, ALLOW);
    let client = Client::new(out.path());
    let device = Device::open(Some(a.path())).unwrap();
    let mut config = ServiceConfig::from_env();
    config.extension.start_timeout = Duration::from_millis(300);
    let s = Arc::new(Session::new(device, Scenario::Backup, config, client.clone()).unwrap());
    let _ = client.session.set(s.clone());
    s.append_backup_bundles(&["com.example.slow".into()], None)
        .unwrap();
    let log = client.wait_for("all");
    assert_eq!(
        log,
        vec![
            "begin-err:13500002:com.example.slow".to_string(),
            "all".to_string()
        ]
    );
    s.release().unwrap();
}

#[test]
fn releasing_mid_bundle_sends_nothing_more() {
    let a = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    install_exec(a.path(), "com.example.hangs", "hangs.py");
    let client = Client::new(out.path());
    let s = open_session(a.path(), Scenario::Backup, &client).unwrap();
    s.append_backup_bundles(&["com.example.hangs".into()], None)
        .unwrap();
    client.wait_for("begin:com.example.hangs");
    s.release().unwrap();
    let n = client.log().len();
    std::thread::sleep(Duration::from_millis(500));
    let log = client.log();
    assert_eq!(log.len(), n, "nothing after release: {log:?}");
    assert!(!log.iter().any(|l| l.starts_with("end")));
}

#[test]
fn wiping_the_device_state_under_a_session_is_the_service_dying() {
    let a = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let client = Client::new(out.path());
    let s = open_session(a.path(), Scenario::Backup, &client).unwrap();
    fs::remove_dir_all(a.path().join("state")).unwrap();
    client.wait_for("died");
    assert_eq!(
        s.append_backup_bundles(&["com.a".into()], None)
            .unwrap_err()
            .code(),
        ErrorCode::IpcError
    );
}

#[test]
fn a_send_rate_of_zero_pauses_a_bundle_until_raised() {
    let a = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    install_exec(a.path(), "com.example.good", "well_behaved.py");
    for i in 0..3 {
        let big = vec![i as u8; 2 * 1024 * 1024 + 1];
        put(
            a.path(),
            "com.example.good",
            &format!("data/storage/el2/base/files/big{i}.bin"),
            &big,
            0o600,
            1_600_000_000,
        );
    }
    let client = Client::new(out.path());
    let s = open_session(a.path(), Scenario::Backup, &client).unwrap();
    s.append_backup_bundles(&["com.example.good".into()], None)
        .unwrap();
    client.wait_for("begin:com.example.good");
    assert!(update_send_rate("com.example.good", 0).unwrap());
    std::thread::sleep(Duration::from_millis(1500));
    let before = client_files(&client.log(), "com.example.good").len();
    assert!(before <= 1, "paused: {:?}", client.log());
    assert!(
        update_send_rate("com.example.good", 100_000).unwrap(),
        "clamped, not refused"
    );
    let log = client.wait_for("all");
    assert_eq!(
        client_files(&log, "com.example.good").len(),
        5,
        "3 big files, a part, manage.json: {log:?}"
    );
    s.release().unwrap();
    let mut data = Vec::new();
    fs::File::open(out.path().join("com.example.good/manage.json"))
        .unwrap()
        .read_to_end(&mut data)
        .unwrap();
    assert_eq!(
        crate::backup::archive::manage::parse(&data).unwrap().len(),
        4
    );
}

/// A restore whose backup carries a hostile part: the bad entries are drained and reported, the
/// good ones land, nothing outside the sandbox changes.
#[test]
fn a_hostile_part_is_reported_entry_by_entry_and_cannot_escape() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    sample_app(a.path(), "com.example.notes");
    install(b.path(), "com.example.notes", APP, ALLOW);
    backup(a.path(), out.path(), &["com.example.notes"]);
    // The device's own files beside the app: they must stay byte-identical.
    fs::write(
        b.path().join("apps/com.example.notes/bundle.json.bak"),
        b"keep",
    )
    .unwrap();
    let outside = b.path().join("apps/com.example.notes/escape.txt");
    let before_outside = tree(&b.path().join("apps"));

    let mut builder = tar::Builder::new(Vec::new());
    let mut add = |name: &str, kind: tar::EntryType, data: &[u8], link: Option<&str>| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_600_000_000);
        if let Some(l) = link {
            h.set_link_name(l).unwrap();
        }
        // Raw names: the crate's own path checks would refuse the hostile ones.
        let bytes = name.as_bytes();
        h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
        h.set_cksum();
        builder.append(&h, data).unwrap();
    };
    add("/../../escape.txt", tar::EntryType::Regular, b"evil", None);
    add(
        "/data/storage/el2/base/files/link",
        tar::EntryType::Symlink,
        b"",
        Some("/"),
    );
    add(
        "/data/storage/el2/base/files/hard",
        tar::EntryType::Link,
        b"",
        Some("/etc/passwd"),
    );
    add(
        "/data/storage/el2/base/files/fifo",
        tar::EntryType::Fifo,
        b"",
        None,
    );
    add(
        "/data/storage/el2/base/files/good.txt",
        tar::EntryType::Regular,
        b"good",
        None,
    );
    let hostile = builder.into_inner().unwrap();
    let dir = out.path().join("com.example.notes");
    fs::write(dir.join("part.9.tar"), hostile).unwrap();
    let mut index =
        crate::backup::archive::manage::parse(&fs::read(dir.join("manage.json")).unwrap()).unwrap();
    let mut extra = index[0].clone();
    extra.file_name = "part.9.tar".into();
    extra.is_big_file = false;
    index.push(extra);
    fs::write(
        dir.join("manage.json"),
        crate::backup::archive::manage::to_json(&index),
    )
    .unwrap();

    let log = restore(b.path(), a.path(), out.path(), &["com.example.notes"]);
    assert!(
        log.contains(&"end-err:13500008:com.example.notes".to_string()),
        "{log:?}"
    );
    let errors: Vec<_> = log
        .iter()
        .filter(|l| l.starts_with("process:com.example.notes:") && l.contains("errorInfo"))
        .collect();
    assert_eq!(errors.len(), 4, "one report per bad entry: {errors:?}");
    assert!(errors.iter().all(|e| e.contains("13500008")));
    assert!(!outside.exists());
    let sandbox = b
        .path()
        .join("apps/com.example.notes/sandbox/data/storage/el2/base/files");
    assert_eq!(fs::read(sandbox.join("good.txt")).unwrap(), b"good");
    assert_eq!(
        fs::read(sandbox.join("a.txt")).unwrap(),
        b"alpha",
        "the regular parts restored too"
    );
    for bad in ["link", "hard", "fifo"] {
        assert!(
            fs::symlink_metadata(sandbox.join(bad)).is_err(),
            "{bad} was created"
        );
    }
    let after_outside = tree(&b.path().join("apps"));
    for (k, v) in &before_outside {
        if !k.contains("/sandbox") {
            assert_eq!(
                after_outside.get(k),
                Some(v),
                "{k} outside the sandbox changed"
            );
        }
    }
}

/// An `exec` extension written for one test: `hooks` is Python code defining a dict `HOOKS`.
fn install_python_ext(root: &Path, name: &str, hooks: &str) {
    let dir = root.join("apps").join(name);
    fs::create_dir_all(&dir).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/extensions")
        .canonicalize()
        .unwrap();
    let script = format!("import sys, time, json\nsys.path.insert(0, {:?})\nfrom lineproto import serve\n{hooks}\nserve(HOOKS)\n", fixtures.to_string_lossy());
    fs::write(dir.join("ext.py"), script).unwrap();
    let bundle = format!(
        r#"{{"versionCode": 7, "versionName": "7.0", "extension": {{"exec": ["python3", "{}"]}}}}"#,
        dir.join("ext.py").display()
    );
    install(root, name, &bundle, ALLOW);
}

/// `count` apps named `<prefix><i>` whose onBackupEx sleeps `seconds`, each with one small file.
fn install_slow_apps(root: &Path, prefix: &str, count: usize, seconds: f64) -> Vec<String> {
    let names: Vec<String> = (0..count).map(|i| format!("{prefix}{i}")).collect();
    for n in &names {
        install_python_ext(
            root,
            n,
            &format!("HOOKS = {{'onBackupEx': lambda info: (time.sleep({seconds}), '')[1]}}"),
        );
        put(
            root,
            n,
            "data/storage/el2/base/files/a.txt",
            b"x",
            0o600,
            1_600_000_000,
        );
    }
    names
}

#[test]
fn at_most_three_bundles_are_in_flight() {
    let a = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let names = install_slow_apps(a.path(), "com.example.slow", 6, 0.4);
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let log = backup(a.path(), out.path(), &refs);
    let (mut open, mut most) = (0i32, 0i32);
    for l in &log {
        if l.starts_with("begin:") {
            open += 1;
            most = most.max(open);
        } else if l.starts_with("end") {
            open -= 1;
        }
    }
    assert_eq!(
        log.iter().filter(|l| l.starts_with("end:")).count(),
        6,
        "{log:?}"
    );
    assert!(
        most <= MAX_BUNDLES_IN_FLIGHT as i32,
        "{most} bundles ran at once: {log:?}"
    );
    assert!(most >= 2, "bundles ran one by one: {log:?}");
}

#[test]
fn restore_hooks_get_the_old_devices_version_and_the_unicast_details() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    install_python_ext(a.path(), "com.example.ext", "HOOKS = {}");
    put(
        a.path(),
        "com.example.ext",
        "data/storage/el2/base/files/a.txt",
        b"x",
        0o600,
        1_600_000_000,
    );
    install_python_ext(b.path(), "com.example.ext", "HOOKS = {'onRestoreEx': lambda version, info: json.dumps({'v': version, 'info': json.loads(info)})}");
    // The target app is a newer version: the hook must see the old device's.
    fs::write(
        b.path().join("apps/com.example.ext/bundle.json"),
        fs::read_to_string(b.path().join("apps/com.example.ext/bundle.json"))
            .unwrap()
            .replace("\"versionCode\": 7", "\"versionCode\": 9"),
    )
    .unwrap();
    backup(a.path(), out.path(), &["com.example.ext"]);
    let client = Client::new(out.path());
    let caps = write_local_capabilities(&Device::open(Some(a.path())).unwrap()).unwrap();
    let s = open_session(b.path(), Scenario::Restore, &client).unwrap();
    let infos = [
        r#"{"infos":[{"type":"unicast","details":[{"type":"mode","detail":"clone"}]}]}"#
            .to_string(),
    ];
    s.append_restore_bundles(&caps, &["com.example.ext".into()], Some(&infos))
        .unwrap();
    let log = client.wait_for("all");
    s.release().unwrap();
    let report = log
        .iter()
        .find(|l| l.starts_with("report:com.example.ext:"))
        .unwrap_or_else(|| panic!("{log:?}"));
    let v: serde_json::Value =
        serde_json::from_str(report.trim_start_matches("report:com.example.ext:")).unwrap();
    assert_eq!(v["v"], serde_json::json!({"code": 7, "name": "7.0"}));
    assert_eq!(
        v["info"],
        serde_json::json!([{"type": "mode", "detail": "clone"}, {"type": "userId", "detail": "100"}])
    );
    assert_eq!(
        position(&log, "end:com.example.ext"),
        position(&log, report) + 1,
        "onResultReport right before onBundleEnd"
    );
}

#[test]
fn full_backup_only_restores_into_the_apps_restore_folder() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    sample_app(a.path(), "com.example.fbo");
    install(
        b.path(),
        "com.example.fbo",
        APP,
        r#"{"allowToBackupRestore": true, "fullBackupOnly": true}"#,
    );
    backup(a.path(), out.path(), &["com.example.fbo"]);
    let log = restore(b.path(), a.path(), out.path(), &["com.example.fbo"]);
    assert!(log.contains(&"end:com.example.fbo".to_string()), "{log:?}");
    let sandbox = b.path().join("apps/com.example.fbo/sandbox");
    let staged = sandbox.join("data/storage/el2/base/.backup/restore");
    assert_eq!(
        fs::read(staged.join("data/storage/el2/base/files/a.txt")).unwrap(),
        b"alpha"
    );
    assert_eq!(
        fs::metadata(staged.join("data/storage/el2/database/big.db"))
            .unwrap()
            .len(),
        3 * 1024 * 1024 + 17
    );
    assert!(
        !sandbox.join("data/storage/el2/base/files/a.txt").exists(),
        "the app moves its data itself"
    );
}

#[test]
fn app_mapping_relation_restores_into_the_target_and_broadcast_only_skips() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    sample_app(a.path(), "com.old.app");
    sample_app(a.path(), "com.example.announce");
    install(b.path(), "com.new.app", APP, ALLOW);
    install(b.path(), "com.example.announce", APP, ALLOW);
    backup(
        a.path(),
        out.path(),
        &["com.old.app", "com.example.announce"],
    );
    let client = Client::new(out.path());
    let caps = write_local_capabilities(&Device::open(Some(a.path())).unwrap()).unwrap();
    let s = open_session(b.path(), Scenario::Restore, &client).unwrap();
    let infos = [
        r#"{"infos":[{"type":"broadcast","details":[{"type":"app_mapping_relation","detail":[{"source":"com.old.app","target":"com.new.app"}]}]}]}"#.to_string(),
        r#"{"infos":[{"type":"broadcast","isBroadcastOnly":true,"broadcastType":"restore_start"}]}"#.to_string(),
    ];
    s.append_restore_bundles(
        &caps,
        &["com.old.app".into(), "com.example.announce".into()],
        Some(&infos),
    )
    .unwrap();
    let log = client.wait_for("all");
    s.release().unwrap();
    assert!(log.contains(&"end:com.old.app".to_string()), "{log:?}");
    assert!(
        !log.iter().any(|l| l.contains("announce")),
        "broadcast-only bundles are not restored: {log:?}"
    );
    assert_eq!(
        fs::read(
            b.path()
                .join("apps/com.new.app/sandbox/data/storage/el2/base/files/a.txt")
        )
        .unwrap(),
        b"alpha"
    );
    assert!(!b
        .path()
        .join("apps/com.example.announce/sandbox/data")
        .exists());
}

#[test]
fn cancel_a_running_a_waiting_and_an_unknown_bundle() {
    let a = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let names = install_slow_apps(a.path(), "com.example.slow", 4, 3.0);
    let client = Client::new(out.path());
    let s = open_session(a.path(), Scenario::Backup, &client).unwrap();
    s.append_backup_bundles(&names, None).unwrap();
    for n in &names[..3] {
        client.wait_for(&format!("begin:{n}"));
    }
    assert_eq!(
        s.cancel("com.example.slow3").unwrap(),
        13500011,
        "waiting: not started"
    );
    assert_eq!(s.cancel("com.example.nope").unwrap(), 13500012, "unknown");
    let t0 = Instant::now();
    assert_eq!(s.cancel("com.example.slow0").unwrap(), 0, "running");
    client.wait_for("end:com.example.slow0");
    assert!(
        t0.elapsed() < Duration::from_secs(2),
        "cancel ends the bundle at once"
    );
    let log = client.wait_for("all");
    assert!(
        !log.iter().any(|l| l.starts_with("file:com.example.slow0:")),
        "a cancelled bundle sends nothing more: {log:?}"
    );
    assert!(
        log.contains(&"end:com.example.slow3".to_string()),
        "the waiting one still ran: {log:?}"
    );
    s.release().unwrap();
    assert_eq!(
        s.cancel("com.example.slow1").unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
}

#[test]
fn backup_data_size_reports_sizes_and_refuses_a_second_scan() {
    let a = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    install(a.path(), "com.example.sized", APP, ALLOW);
    put(
        a.path(),
        "com.example.sized",
        "data/storage/el2/base/files/old.bin",
        &[0u8; 1000],
        0o600,
        1_600_000_000,
    );
    put(
        a.path(),
        "com.example.sized",
        "data/storage/el2/base/files/new.bin",
        &[0u8; 300],
        0o600,
        1_700_000_100,
    );
    let client = Client::new(out.path());
    let s = open_session(a.path(), Scenario::Backup, &client).unwrap();
    let list = vec![
        IncrementalBackupTime {
            bundle_name: "com.example.sized".into(),
            last_incremental_time: 1_700_000_000,
        },
        IncrementalBackupTime {
            bundle_name: "com.example.unknown".into(),
            last_incremental_time: 0,
        },
    ];
    s.get_backup_data_size(true, list.clone()).unwrap();
    let second = s.get_backup_data_size(true, list.clone());
    let deadline = Instant::now() + WAIT;
    let report = loop {
        if let Some(r) = client
            .log()
            .iter()
            .find(|l| l.starts_with("size:") && l.contains("\"scanning\":\"\""))
        {
            break r.trim_start_matches("size:").to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no final size report: {:?}",
            client.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    if let Err(e) = second {
        assert_eq!(
            e.code(),
            ErrorCode::InvalidArgument,
            "a second scan while one runs"
        );
    }
    let v: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(
        v["scaned"][0],
        serde_json::json!({"bundleName": "com.example.sized", "dataSize": 1300, "incDataSize": 300})
    );
    assert_eq!(v["scaned"][1]["dataSize"], -1);
    // Once done, a new scan is accepted; an estimate leaves incDataSize unknown.
    std::thread::sleep(Duration::from_millis(50));
    s.get_backup_data_size(false, list[..1].to_vec()).unwrap();
    s.release().unwrap();
    assert!(s.get_backup_data_size(true, list).is_err());
}

#[test]
fn session_capabilities_temp_dirs_compatibility_info_and_version() {
    let a = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    install_python_ext(
        a.path(),
        "com.example.compat",
        "HOOKS = {'getBackupCompatibilityInfo': lambda ext: 'backup-compat:' + ext}",
    );
    install(
        a.path(),
        "com.example.closed",
        APP,
        r#"{"allowToBackupRestore": false}"#,
    );
    install_python_ext(
        a.path(),
        "com.example.late",
        "HOOKS = {'getBackupCompatibilityInfo': lambda ext: (time.sleep(3), 'late')[1]}",
    );
    let client = Client::new(out.path());
    let s = open_session(a.path(), Scenario::Backup, &client).unwrap();
    let mut text = String::new();
    s.local_capabilities()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let caps: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(caps.get("backupVersion").is_none());
    let names: Vec<&str> = caps["bundleInfos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["com.example.compat", "com.example.late"],
        "only bundles that allow backup"
    );
    assert_eq!(
        s.compatibility_info("com.example.compat", "x1").unwrap(),
        "backup-compat:x1"
    );
    let t0 = Instant::now();
    assert_eq!(
        s.compatibility_info("com.example.late", "x").unwrap(),
        "",
        "late answers are empty"
    );
    assert!(t0.elapsed() < Duration::from_secs(3));
    assert_eq!(s.compatibility_info("com.example.closed", "x").unwrap(), "");
    let temp = a
        .path()
        .join("apps/com.example.compat/sandbox/data/storage/el2/base/.backup/backup");
    fs::create_dir_all(&temp).unwrap();
    fs::write(temp.join("leftover.tar"), b"x").unwrap();
    assert!(s.clean_bundle_temp_dir("com.example.compat"));
    assert!(!temp.exists());
    assert!(!s.clean_bundle_temp_dir("com.example.nope"));
    s.release().unwrap();
    assert!(!s.clean_bundle_temp_dir("com.example.compat"));
    assert_eq!(
        backup_version_json(),
        format!(
            "{{\"backupVersion\" : \"{}\"}}",
            crate::backup::BACKUP_VERSION
        )
    );
}

// ---- incremental ----

use crate::backup::incremental::Manifest;

/// One incremental backup of `name` into `out`, against `prev` (the previous all-files manifest,
/// empty for the first run) taken at `last_time`. Returns the log and the new all-files manifest.
fn incremental(
    root: &Path,
    out: &Path,
    name: &str,
    prev: &[u8],
    last_time: i64,
) -> (Vec<String>, Vec<u8>) {
    let client = Client::new(out);
    let s = open_session(root, Scenario::Backup, &client).unwrap();
    let mut m = tempfile::tempfile().unwrap();
    m.write_all(prev).unwrap();
    let data = IncrementalBackupData {
        bundle_name: name.into(),
        last_incremental_time: last_time,
        manifest: m,
        parameters: String::new(),
        priority: 0,
    };
    s.append_incremental_bundles(vec![data], None).unwrap();
    let log = client.wait_for("all");
    s.release().unwrap();
    let all = fs::read(out.join(name).join("manage.json.rp")).unwrap();
    (log, all)
}

fn sent(log: &[String], name: &str) -> Vec<String> {
    client_files(log, name)
        .into_iter()
        .filter(|f| f != "manage.json")
        .collect()
}

/// The paths a run's item manifests say it sent.
fn sent_paths(out: &Path, name: &str, log: &[String]) -> Vec<String> {
    let mut paths = Vec::new();
    for f in sent(log, name) {
        let m =
            Manifest::parse(&fs::read(out.join(name).join(format!("{f}.rp"))).unwrap()).unwrap();
        paths.extend(m.paths().map(str::to_string));
    }
    paths.sort();
    paths
}

#[test]
fn incremental_change_detection() {
    let a = tempfile::tempdir().unwrap();
    let name = "com.example.inc";
    install(a.path(), name, APP, ALLOW);
    let f = |p: &str| format!("data/storage/el2/base/files/{p}");
    for p in [
        "content",
        "size",
        "mtime",
        "mode",
        "same",
        "second",
        "second_same",
        "gone",
    ] {
        put(
            a.path(),
            name,
            &f(p),
            format!("{p}-v1").as_bytes(),
            0o644,
            1_600_000_000,
        );
    }
    let t1: i64 = 1_700_000_000;
    // The same-second files carry the previous backup's second as their mtime.
    put(a.path(), name, &f("second"), b"second-v1", 0o644, t1 as u64);
    put(
        a.path(),
        name,
        &f("second_same"),
        b"second_same-v1",
        0o644,
        t1 as u64,
    );
    let out1 = tempfile::tempdir().unwrap();
    let (log1, m1) = incremental(a.path(), out1.path(), name, b"", 0);
    assert_eq!(
        sent_paths(out1.path(), name, &log1).len(),
        8,
        "an empty previous manifest: everything is new"
    );
    let manifest1 = Manifest::parse(&m1).unwrap();
    assert_eq!(manifest1.len(), 8);
    assert!(manifest1.iter().all(|r| r.hash.len() == 64
        && r.hash
            .chars()
            .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))));

    // Nothing changed: only manage.json and its manifest.
    let out2 = tempfile::tempdir().unwrap();
    let (log2, m2) = incremental(a.path(), out2.path(), name, &m1, t1);
    assert_eq!(client_files(&log2, name), ["manage.json"], "{log2:?}");
    assert_eq!(Manifest::parse(&m2).unwrap().len(), 8);

    put(
        a.path(),
        name,
        &f("content"),
        b"CONTENT-v1",
        0o644,
        1_600_000_500,
    ); // same size, new content
    put(
        a.path(),
        name,
        &f("size"),
        b"size-v1 and more",
        0o644,
        1_600_000_000,
    ); // size only
    put(
        a.path(),
        name,
        &f("mtime"),
        b"mtime-v1",
        0o644,
        1_600_000_999,
    ); // mtime only
    put(a.path(), name, &f("mode"), b"mode-v1", 0o600, 1_600_000_000); // mode only
    put(a.path(), name, &f("second"), b"SECOND-v1", 0o644, t1 as u64); // same size, same second, rewritten
    fs::remove_file(
        a.path()
            .join("apps")
            .join(name)
            .join("sandbox")
            .join(f("gone")),
    )
    .unwrap();
    fs::create_dir_all(
        a.path()
            .join("apps")
            .join(name)
            .join("sandbox")
            .join(f("newdir")),
    )
    .unwrap();
    let out3 = tempfile::tempdir().unwrap();
    let (log3, m3) = incremental(a.path(), out3.path(), name, &m1, t1);
    let expect: Vec<String> = ["content", "mode", "mtime", "newdir", "second", "size"]
        .iter()
        .map(|p| format!("/{}", f(p)))
        .collect();
    assert_eq!(sent_paths(out3.path(), name, &log3), expect, "{log3:?}");
    let m3 = Manifest::parse(&m3).unwrap();
    assert!(
        m3.get(&format!("/{}", f("gone"))).is_none(),
        "deleted files leave the manifest"
    );
    assert!(m3
        .get(&format!("/{}", f("newdir")))
        .is_some_and(|r| r.is_dir));
    assert_eq!(
        m3.get(&format!("/{}", f("second"))).unwrap().hash,
        crate::backup::incremental::sha256_hex(b"SECOND-v1")
    );
}

#[test]
fn a_bad_or_garbled_previous_manifest_is_a_coded_error_not_a_full_backup() {
    let a = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    sample_app(a.path(), "com.example.inc");
    let client = Client::new(out.path());
    let s = open_session(a.path(), Scenario::Backup, &client).unwrap();
    let mut garbage = tempfile::tempfile().unwrap();
    garbage.write_all(b"this is not a manifest\n").unwrap();
    let data = IncrementalBackupData {
        bundle_name: "com.example.inc".into(),
        last_incremental_time: 1,
        manifest: garbage,
        parameters: String::new(),
        priority: 0,
    };
    let e = s.append_incremental_bundles(vec![data], None).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
    assert!(
        e.message().contains("previous manifest of com.example.inc"),
        "{}",
        e.message()
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        client.log().is_empty(),
        "nothing was backed up: {:?}",
        client.log()
    );
    s.release().unwrap();
}

#[test]
fn priority_orders_waiting_bundles() {
    let a = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    // Three slow bundles fill the slots; the four queued ones then start by priority.
    let names = install_slow_apps(a.path(), "com.example.p", 7, 0.5);
    let client = Client::new(out.path());
    let s = open_session(a.path(), Scenario::Backup, &client).unwrap();
    let prio = [9, 9, 9, 1, 5, 5, 7];
    let list = names
        .iter()
        .zip(prio)
        .map(|(n, p)| IncrementalBackupData {
            bundle_name: n.clone(),
            last_incremental_time: 0,
            manifest: tempfile::tempfile().unwrap(),
            parameters: String::new(),
            priority: p,
        })
        .collect();
    s.append_incremental_bundles(list, None).unwrap();
    let log = client.wait_for("all");
    s.release().unwrap();
    let begins: Vec<&str> = log
        .iter()
        .filter_map(|l| l.strip_prefix("begin:"))
        .collect();
    // The second wave starts together (its begins may interleave); the lowest priority comes last.
    let mut wave: Vec<&str> = begins[3..6].to_vec();
    wave.sort();
    assert_eq!(
        wave,
        ["com.example.p4", "com.example.p5", "com.example.p6"],
        "{log:?}"
    );
    assert_eq!(begins[6], "com.example.p3", "{log:?}");
}

/// A small random-ish tree mutated step by step (deterministic).
struct Mutator {
    seed: u64,
}

impl Mutator {
    fn next(&mut self) -> u64 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed
    }

    fn mutate(&mut self, sandbox: &Path, step: i64) {
        let base = sandbox.join("data/storage/el2/base/files");
        for _ in 0..12 {
            let r = self.next();
            let dir = base
                .join(format!("d{}", r % 4))
                .join(format!("s{}", (r >> 8) % 3));
            let file = dir.join(format!("f{}.dat", (r >> 16) % 6));
            match (r >> 24) % 6 {
                0 | 1 => {
                    fs::create_dir_all(&dir).unwrap();
                    let len = ((r >> 32) % 5000) as usize
                        + if (r >> 40).is_multiple_of(9) {
                            2 << 20
                        } else {
                            0
                        };
                    fs::write(&file, vec![(r >> 44) as u8; len]).unwrap();
                    fs::set_permissions(
                        &file,
                        fs::Permissions::from_mode(0o600 | ((r >> 50) as u32 & 0o44)),
                    )
                    .unwrap();
                    let f = fs::File::options().write(true).open(&file).unwrap();
                    f.set_modified(
                        UNIX_EPOCH
                            + Duration::from_secs(
                                (1_600_000_000 + step * 1000 + (r % 500) as i64) as u64,
                            ),
                    )
                    .unwrap();
                }
                2 => {
                    let _ = fs::remove_file(&file);
                }
                3 => {
                    let _ = fs::remove_dir_all(&dir);
                }
                4 => fs::create_dir_all(dir.join(format!("empty{}", r % 3))).unwrap(),
                _ => {
                    if file.exists() {
                        let f = fs::File::options().write(true).open(&file).unwrap();
                        f.set_modified(
                            UNIX_EPOCH + Duration::from_secs(1_650_000_000 + (r % 1000)),
                        )
                        .unwrap();
                    }
                }
            }
        }
    }
}

#[test]
fn a_tree_mutated_five_times_restores_as_a_chain_to_the_live_tree() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let name = "com.example.chain";
    install(a.path(), name, APP, ALLOW);
    install(b.path(), name, APP, ALLOW);
    let sandbox_a = a.path().join("apps").join(name).join("sandbox");
    let sandbox_b = b.path().join("apps").join(name).join("sandbox");
    let mut m = Mutator {
        seed: 0x9E37_79B9_7F4A_7C15,
    };
    m.mutate(&sandbox_a, 0);
    let mut prev = Vec::new();
    let mut last_time = 0;
    for step in 1..=6 {
        let out = tempfile::tempdir().unwrap();
        let (_log, all) = incremental(a.path(), out.path(), name, &prev, last_time);
        prev = all;
        last_time = 1_600_000_000 + step * 1000 + 999;
        let log = restore(b.path(), a.path(), out.path(), &[name]);
        assert!(log.contains(&format!("end:{name}")), "step {step}: {log:?}");
        let (ta, tb) = (tree(&sandbox_a), tree(&sandbox_b));
        assert_eq!(
            ta.keys().collect::<Vec<_>>(),
            tb.keys().collect::<Vec<_>>(),
            "step {step}: paths differ"
        );
        for (k, v) in &ta {
            assert_eq!(Some(v), tb.get(k), "step {step}: {k} differs");
        }
        m.mutate(&sandbox_a, step);
    }
}
