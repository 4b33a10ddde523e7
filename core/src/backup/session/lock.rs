//! One active backup/restore session per device, across processes: an exclusive `flock` on
//! `<root>/state/backup-session.lock`. The kernel drops the lock when its holder dies, so a killed
//! client never blocks the device. Who holds it is written beside it for the conflict message.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::device::Device;
use crate::error::{Error, ErrorCode, Result};

/// The scenario of a session, as OpenHarmony names it in conflict messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// SessionBackup / IncrementalBackupSession.
    Backup,
    /// SessionRestore.
    Restore,
}

impl Scenario {
    /// `BACKUP` / `RESTORE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::Backup => "BACKUP",
            Scenario::Restore => "RESTORE",
        }
    }
}

/// The held session lock; released on drop (or when the process dies).
#[derive(Debug)]
pub struct SessionLock {
    file: File,
    path: PathBuf,
    info_path: PathBuf,
    ino: u64,
}

impl SessionLock {
    /// Takes the device's session lock, or fails with 13500013 and OpenHarmony's JSON message.
    pub fn acquire(device: &Device, scenario: Scenario, caller: &str) -> Result<SessionLock> {
        let state = device.state_dir()?;
        let path = state.join("backup-session.lock");
        let info_path = state.join("backup-session.json");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&e, format!("cannot open {}", path.display())))?;
        // SAFETY: flock on an fd we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let holder = fs::read_to_string(&info_path).unwrap_or_default();
            let holder: serde_json::Value = serde_json::from_str(&holder).unwrap_or_default();
            let message = json!({"sessionInfo": {
                "error": "Session Conflict",
                "userId": "100",
                "name": holder["name"].as_str().unwrap_or("unknown"),
                "activeTime": holder["activeTime"].as_str().unwrap_or(""),
                "scenario": holder["scenario"].as_str().unwrap_or("UNDEFINED"),
            }});
            return Err(Error::new(ErrorCode::SessionConflict, message.to_string()));
        }
        let ino = file.metadata().map(|m| m.ino()).unwrap_or(0);
        let info = json!({"name": caller, "pid": std::process::id(), "activeTime": now_text(), "scenario": scenario.as_str()});
        let tmp = state.join(format!(".backup-session.json.{}", std::process::id()));
        let written = File::create(&tmp)
            .and_then(|mut f| f.write_all(info.to_string().as_bytes()))
            .and_then(|_| fs::rename(&tmp, &info_path));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(Error::io(
                &e,
                format!("cannot write {}", info_path.display()),
            ));
        }
        Ok(SessionLock {
            file,
            path,
            info_path,
            ino,
        })
    }

    /// Whether the lock file is still the one we locked (false when the device's state was wiped
    /// under the session: the service can no longer vouch for it).
    pub fn still_valid(&self) -> bool {
        match fs::metadata(&self.path) {
            Ok(m) => m.ino() == self.ino,
            Err(_) => false,
        }
    }
}

impl Drop for SessionLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.info_path);
        // SAFETY: unlocking an fd we own; closing it would release the lock anyway.
        unsafe { libc::flock(self.file.as_raw_fd(), libc::LOCK_UN) };
    }
}

/// `YYYY-MM-DD HH:MM:SS:mmm` in local time, as OpenHarmony's conflict message shows it.
fn now_text() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    // SAFETY: localtime_r writes only into `tm`.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe { libc::localtime_r(&secs, &mut tm) };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}:{:03}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        now.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_session_conflicts_with_openharmonys_json_message() {
        let t = tempfile::tempdir().unwrap();
        let d = Device::open(Some(t.path())).unwrap();
        let held = SessionLock::acquire(&d, Scenario::Backup, "clone-tool").unwrap();
        let e = SessionLock::acquire(&d, Scenario::Restore, "other").unwrap_err();
        assert_eq!(e.code(), ErrorCode::SessionConflict);
        let v: serde_json::Value = serde_json::from_str(e.detail()).unwrap();
        assert_eq!(v["sessionInfo"]["error"], "Session Conflict");
        assert_eq!(v["sessionInfo"]["name"], "clone-tool");
        assert_eq!(v["sessionInfo"]["scenario"], "BACKUP");
        assert_eq!(v["sessionInfo"]["activeTime"].as_str().unwrap().len(), 23);
        assert!(held.still_valid());
        drop(held);
        let again = SessionLock::acquire(&d, Scenario::Restore, "other").unwrap();
        fs::remove_dir_all(t.path().join("state")).unwrap();
        assert!(!again.still_valid());
    }
}
