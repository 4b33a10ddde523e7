//! The device conditions a sync depends on, read from `device.json` each time they are checked
//! (tests and users change them while a run is in flight):
//!
//! ```json
//! { "batteryLevel": 80, "charging": false, "network": "wifi",
//!   "cloudSwitch": { "com.example.notes": true, "media": true }, "localFreeBytes": 1048576,
//!   "networkBytesPerSecond": 16777216 }
//! ```
//!
//! Absent keys mean a healthy device: battery 100 %, not charging, Wi-Fi, every app's cloud switch
//! on, the real free space of the filesystem. Battery thresholds follow the current d.ts and the
//! engine's rule (seed 002's older wording said 15 %): `start()` is refused below 10 % when not
//! charging (22400003), and a run in flight fails with BATTERY_LEVEL_LOW when the level drops
//! below 10 % without a charger. Between 10 % and 15 % OpenHarmony only pauses background syncs;
//! an app's `start()` is always a forced sync, so nothing happens there.

use std::path::Path;

use serde_json::{Map, Value};

use super::progress::SyncErrorType;
use super::scope::SyncScope;
use crate::device::json_file::json_kind;
use crate::device::Device;
use crate::error::{Error, ErrorCode, Result};

/// Below this battery level (percent) without a charger no sync starts or continues.
pub const BATTERY_REFUSE_BELOW: u8 = 10;

/// What kind of network the device has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    None,
    Wifi,
    Cellular,
    Ethernet,
}

/// The conditions of one device for one synced folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conditions {
    pub battery_level: u8,
    pub charging: bool,
    pub network: Network,
    /// The app's (or the gallery's) cloud switch.
    pub cloud_switch: bool,
    /// Free bytes to assume for local storage instead of asking the filesystem.
    pub local_free_bytes: Option<u64>,
    /// The network's speed for downloads, in bytes per second (`None`: as fast as the cloud
    /// gives): a slow link, simulated.
    pub network_bytes_per_second: Option<u64>,
}

impl Conditions {
    /// Reads the conditions now. A malformed value is 13900020 naming the key.
    pub fn read(device: &Device, scope: &SyncScope) -> Result<Conditions> {
        let info = device.info()?;
        Conditions::from_json(
            &info.raw,
            scope.namespace(),
            &device.root().join("device.json"),
        )
    }

    fn from_json(raw: &Map<String, Value>, ns: &str, origin: &Path) -> Result<Conditions> {
        let bad = |key: &str, want: &str, v: &Value| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "{}: \"{key}\" must be {want}, not {}",
                    origin.display(),
                    json_kind(v)
                ),
            )
        };
        let battery_level = match raw.get("batteryLevel") {
            None | Some(Value::Null) => 100,
            Some(v) => match v.as_u64() {
                Some(n) if n <= 100 => n as u8,
                _ => return Err(bad("batteryLevel", "a percentage 0..100", v)),
            },
        };
        let charging = match raw.get("charging") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(v) => return Err(bad("charging", "a boolean", v)),
        };
        let network = match raw.get("network") {
            None | Some(Value::Null) => Network::Wifi,
            Some(Value::String(s)) => match s.as_str() {
                "none" => Network::None,
                "wifi" => Network::Wifi,
                "cellular" => Network::Cellular,
                "ethernet" => Network::Ethernet,
                _ => {
                    return Err(Error::new(
                        ErrorCode::InvalidArgument,
                        format!(
                        "{}: \"network\" must be one of none, wifi, cellular, ethernet, not {s:?}",
                        origin.display()
                    ),
                    ))
                }
            },
            Some(v) => return Err(bad("network", "a string", v)),
        };
        let cloud_switch = match raw.get("cloudSwitch") {
            None | Some(Value::Null) => true,
            Some(Value::Object(m)) => match m.get(ns) {
                None | Some(Value::Null) => true,
                Some(Value::Bool(b)) => *b,
                Some(v) => return Err(bad(&format!("cloudSwitch.{ns}"), "a boolean", v)),
            },
            Some(v) => return Err(bad("cloudSwitch", "an object of booleans", v)),
        };
        let local_free_bytes = match raw.get("localFreeBytes") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .ok_or_else(|| bad("localFreeBytes", "a byte count", v))?,
            ),
        };
        let network_bytes_per_second = match raw.get("networkBytesPerSecond") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_u64() {
                Some(n) if n > 0 => Some(n),
                _ => return Err(bad("networkBytesPerSecond", "a positive byte count", v)),
            },
        };
        Ok(Conditions {
            network_bytes_per_second,
            battery_level,
            charging,
            network,
            cloud_switch,
            local_free_bytes,
        })
    }

    /// The checks `start()` makes, in OpenHarmony's order: network (22400002), cloud switch
    /// (22400001), battery (22400003).
    pub fn preflight(&self) -> Result<()> {
        if self.network == Network::None {
            return Err(Error::new(
                ErrorCode::NetworkUnavailable,
                "the device has no network",
            ));
        }
        if !self.cloud_switch {
            return Err(Error::new(
                ErrorCode::CloudNotReady,
                "the cloud switch of this app is off",
            ));
        }
        if self.battery_low() {
            return Err(Error::new(
                ErrorCode::BatteryLevelWarning,
                format!(
                    "battery at {}% and not charging (syncs need {}% or a charger)",
                    self.battery_level, BATTERY_REFUSE_BELOW
                ),
            ));
        }
        Ok(())
    }

    /// Why a run in flight has to give up now, if it has to.
    pub fn running_error(&self) -> Option<SyncErrorType> {
        if self.network == Network::None {
            Some(SyncErrorType::NetworkUnavailable)
        } else if self.battery_low() {
            Some(SyncErrorType::BatteryLevelLow)
        } else {
            None
        }
    }

    fn battery_low(&self) -> bool {
        !self.charging && self.battery_level < BATTERY_REFUSE_BELOW
    }

    /// Whether `need` more bytes fit on local storage under `dir` (the override, or statvfs).
    pub fn local_space_for(&self, dir: &Path, need: u64) -> bool {
        let free = match self.local_free_bytes {
            Some(n) => n,
            None => statvfs_free(dir).unwrap_or(u64::MAX),
        };
        need <= free
    }
}

fn statvfs_free(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid C string and `st` a writable statvfs.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some(st.f_bavail as u64 * st.f_frsize as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn conds(v: Value) -> Result<Conditions> {
        Conditions::from_json(v.as_object().unwrap(), "com.a.b", Path::new("device.json"))
    }

    #[test]
    fn defaults_are_a_healthy_device() {
        let c = conds(json!({})).unwrap();
        assert!(c.preflight().is_ok());
        assert_eq!(c.running_error(), None);
    }

    #[test]
    fn preflight_codes_and_order() {
        let code = |v| conds(v).unwrap().preflight().unwrap_err().code();
        assert_eq!(
            code(json!({"network": "none"})),
            ErrorCode::NetworkUnavailable
        );
        assert_eq!(
            code(json!({"network": "none", "cloudSwitch": {"com.a.b": false}})),
            ErrorCode::NetworkUnavailable
        );
        assert_eq!(
            code(json!({"cloudSwitch": {"com.a.b": false}})),
            ErrorCode::CloudNotReady
        );
        assert_eq!(
            code(json!({"batteryLevel": 9})),
            ErrorCode::BatteryLevelWarning
        );
        // Boundaries: 10 % is enough; a charger makes any level enough; other apps' switches
        // do not matter.
        assert!(conds(json!({"batteryLevel": 10}))
            .unwrap()
            .preflight()
            .is_ok());
        assert!(conds(json!({"batteryLevel": 1, "charging": true}))
            .unwrap()
            .preflight()
            .is_ok());
        assert!(conds(json!({"cloudSwitch": {"com.x.y": false}}))
            .unwrap()
            .preflight()
            .is_ok());
    }

    #[test]
    fn malformed_values_name_the_key() {
        for v in [
            json!({"batteryLevel": 101}),
            json!({"charging": "yes"}),
            json!({"network": "5g"}),
            json!({"cloudSwitch": true}),
            json!({"localFreeBytes": -1}),
            json!({"networkBytesPerSecond": 0}),
        ] {
            assert_eq!(conds(v).unwrap_err().code(), ErrorCode::InvalidArgument);
        }
    }
}
