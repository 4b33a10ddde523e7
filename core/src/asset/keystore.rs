//! Secret keys of the asset store. One key per class: (owner, accessibility, auth type,
//! require-password-set), as OpenHarmony keeps one HUKS key per class. [`KeyStore`] is the seam a
//! hardware-backed store (TPM, kernel keyring) would fill; [`SoftwareKeyStore`] is the default.
//!
//! The software store keeps one random 256-bit root key per storage level in
//! `<root>/state/asset/keys/` (folder 0700, files 0600, created once with `link(2)` so that two
//! processes never race to different keys): `de.key` (DEVICE_POWERED_ON), `ce.key`
//! (DEVICE_FIRST_UNLOCKED), `ece.key` (DEVICE_UNLOCKED) and `service.key` (the service's own
//! secrets). Each class key is HKDF-SHA256 of its level's root key with the class alias as info.
//! When a key may be used (lock state, password) is enforced by the store before any key is
//! touched; a software store cannot make a locked key physically unreadable, and says so.

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use aes_gcm::Aes256Gcm;
use sha2::{Digest, Sha256};

use super::crypto::{self, hex};
use super::tags::{Accessibility, AuthType};
use crate::device::Device;
use crate::error::{Error, ErrorCode, Result};

/// The class of a secret key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyId {
    /// The owner: `app:<bundleName>` or `group:<developerId>,<groupId hex>`.
    pub owner: String,
    /// When the key can be used.
    pub accessibility: Accessibility,
    /// Whether using it needs a user authentication.
    pub auth_type: AuthType,
    /// Whether it needs a lock-screen password.
    pub require_password_set: bool,
}

impl KeyId {
    /// The key's alias: lowercase hex SHA-256 of its class.
    pub fn alias(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"ohfile-asset-key-v1\0");
        h.update(self.owner.as_bytes());
        h.update([0]);
        h.update((self.accessibility as u32).to_le_bytes());
        h.update((self.auth_type as u32).to_le_bytes());
        h.update([self.require_password_set as u8]);
        hex(&h.finalize())
    }
}

/// Keeps the asset store's keys and does the crypto that needs them.
pub trait KeyStore: Send + Sync {
    /// AES-256-GCM under the key of `id` (created on first use), binding `aad`; returns
    /// `ciphertext ‖ tag ‖ nonce`.
    fn encrypt(&self, id: &KeyId, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>>;
    /// Opens a blob from [`KeyStore::encrypt`]: 24000007 when it or its `aad` was altered.
    fn decrypt(&self, id: &KeyId, aad: &[u8], blob: &[u8]) -> Result<Vec<u8>>;
    /// A stable 32-byte secret for the service's own use, named by `purpose` (attribute
    /// encryption keys, the auth-token MAC key).
    fn service_secret(&self, purpose: &str) -> Result<[u8; 32]>;
}

/// The root-key level of an accessibility.
fn level(a: Accessibility) -> &'static str {
    match a {
        Accessibility::DevicePoweredOn => "de",
        Accessibility::DeviceFirstUnlocked => "ce",
        Accessibility::DeviceUnlocked => "ece",
    }
}

/// Software root keys in 0600 files under `state/asset/keys/`. Root keys, class ciphers and
/// service secrets are derived once per instance and kept in memory: a store lives as long as
/// the process, and re-deriving per operation would cost a key schedule and an HKDF each time.
pub struct SoftwareKeyStore {
    dir: PathBuf,
    roots: Mutex<HashMap<&'static str, [u8; 32]>>,
    ciphers: Mutex<HashMap<KeyId, Arc<Aes256Gcm>>>,
    service: Mutex<HashMap<String, [u8; 32]>>,
}

impl SoftwareKeyStore {
    /// The key store of `device` (the folder is created on first use).
    pub fn open(device: &Device) -> Result<SoftwareKeyStore> {
        let dir = device.state_subdir("asset")?.join("keys");
        Ok(SoftwareKeyStore {
            dir,
            roots: Mutex::new(HashMap::new()),
            ciphers: Mutex::new(HashMap::new()),
            service: Mutex::new(HashMap::new()),
        })
    }

    fn root(&self, name: &'static str) -> Result<[u8; 32]> {
        let mut roots = self.roots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = roots.get(name) {
            return Ok(*k);
        }
        let k = load_or_create_key(&self.dir, name)?;
        roots.insert(name, k);
        Ok(k)
    }

    /// The cipher of the class `id`, derived on first use.
    fn cipher(&self, id: &KeyId) -> Result<Arc<Aes256Gcm>> {
        let cached = self
            .ciphers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned();
        if let Some(c) = cached {
            return Ok(c);
        }
        let root = self.root(level(id.accessibility))?;
        let key = crypto::derive_key(&root, b"ohfile-asset-class", id.alias().as_bytes());
        let c = Arc::new(crypto::cipher(&key));
        self.ciphers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), c.clone());
        Ok(c)
    }
}

impl KeyStore for SoftwareKeyStore {
    fn encrypt(&self, id: &KeyId, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>> {
        crypto::seal(&*self.cipher(id)?, aad, plain)
    }

    fn decrypt(&self, id: &KeyId, aad: &[u8], blob: &[u8]) -> Result<Vec<u8>> {
        crypto::open(&*self.cipher(id)?, aad, blob)
    }

    fn service_secret(&self, purpose: &str) -> Result<[u8; 32]> {
        if let Some(k) = self
            .service
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(purpose)
        {
            return Ok(*k);
        }
        let root = self.root("service")?;
        let k = crypto::derive_key(&root, b"ohfile-asset-service", purpose.as_bytes());
        self.service
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(purpose.to_string(), k);
        Ok(k)
    }
}

fn key_error(what: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::AssetCryptoError, what.to_string())
}

/// Reads `<dir>/<name>.key`, creating it (32 random bytes, 0600) when absent.
pub(crate) fn load_or_create_key(dir: &Path, name: &str) -> Result<[u8; 32]> {
    fs::create_dir_all(dir)
        .map_err(|e| key_error(format!("cannot create {}: {e}", dir.display())))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| key_error(format!("cannot restrict {}: {e}", dir.display())))?;
    let path = dir.join(format!("{name}.key"));
    if let Some(k) = read_key(&path)? {
        return Ok(k);
    }
    // Write a complete private file under a unique name, then link it into place: link(2) fails
    // if another process got there first, and then its key is the one everybody uses.
    let key = crypto::random::<32>()?;
    let tmp = dir.join(format!(
        ".{name}.{}.{}",
        std::process::id(),
        hex(&crypto::random::<8>()?)
    ));
    let written = (|| -> std::io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&key)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(key_error(format!("cannot write {}: {e}", tmp.display())));
    }
    let linked = fs::hard_link(&tmp, &path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read_key(&path)?.ok_or_else(|| key_error(format!("{} vanished", path.display())))
        }
        Err(e) => Err(key_error(format!("cannot create {}: {e}", path.display()))),
    }
}

pub(crate) fn read_key(path: &Path) -> Result<Option<[u8; 32]>> {
    let mut f = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(key_error(format!("cannot read {}: {e}", path.display()))),
    };
    let meta = f
        .metadata()
        .map_err(|e| key_error(format!("cannot stat {}: {e}", path.display())))?;
    if meta.mode() & 0o077 != 0 {
        return Err(key_error(format!(
            "{} is readable by others (mode {:o}); refusing to use it",
            path.display(),
            meta.mode() & 0o777
        )));
    }
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)
        .map_err(|e| key_error(format!("cannot read {}: {e}", path.display())))?;
    let key: [u8; 32] = buf.as_slice().try_into().map_err(|_| {
        Error::new(
            ErrorCode::AssetDataCorrupted,
            format!("{} is not a 32-byte key", path.display()),
        )
    })?;
    Ok(Some(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_keys_are_private_stable_and_shared_between_instances() {
        let t = tempfile::tempdir().unwrap();
        let d = Device::open(Some(t.path())).unwrap();
        let id = KeyId {
            owner: "app:com.x".into(),
            accessibility: Accessibility::DeviceFirstUnlocked,
            auth_type: AuthType::None,
            require_password_set: false,
        };
        let a = SoftwareKeyStore::open(&d).unwrap();
        let blob = a.encrypt(&id, b"aad", b"s3cret").unwrap();
        let b = SoftwareKeyStore::open(&d).unwrap();
        assert_eq!(b.decrypt(&id, b"aad", &blob).unwrap(), b"s3cret");
        let other = KeyId {
            accessibility: Accessibility::DevicePoweredOn,
            ..id.clone()
        };
        assert_eq!(
            b.decrypt(&other, b"aad", &blob).unwrap_err().code(),
            ErrorCode::AssetDataCorrupted,
            "another class has another key"
        );
        let key = t.path().join("state/asset/keys/ce.key");
        assert_eq!(fs::metadata(&key).unwrap().mode() & 0o777, 0o600);
        assert_eq!(
            fs::metadata(key.parent().unwrap()).unwrap().mode() & 0o777,
            0o700
        );
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        let c = SoftwareKeyStore::open(&d).unwrap();
        assert_eq!(
            c.decrypt(&id, b"aad", &blob).unwrap_err().code(),
            ErrorCode::AssetCryptoError
        );
    }
}
