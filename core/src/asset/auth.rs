//! User authentication for AuthType ANY assets: the sessions `preQuery` opens (persisted in
//! `<root>/state/asset/auth.db`, so a challenge from one process is honoured in another) and the
//! software stand-in for OpenHarmony's user-authentication service that turns a challenge into an
//! auth token.
//!
//! A token is [`AUTH_TOKEN_LEN`] bytes: `"OHFAUTH1" ‖ challenge(32) ‖ SHA-256(owner)(32) ‖
//! issued-at ms (u64 LE) ‖ zero padding ‖ HMAC-SHA256(all before)`, keyed by a service secret of
//! the device's key store. Only code with access to the device's state folder can mint one: that
//! is the trust boundary of the stand-in (on OpenHarmony it is the TEE-backed UserIAM service).

use std::time::Duration;

use hmac::{Hmac, Mac};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};

use super::db::db_error;
use super::keystore::KeyStore;
use super::tags::Accessibility;
use super::validate::{AUTH_TOKEN_LEN, CHALLENGE_LEN};
use crate::device::Device;
use crate::error::{Error, ErrorCode, Result};

/// At most this many open sessions per app.
pub const MAX_SESSIONS_PER_APP: u32 = 16;
/// At most this many open sessions on the device.
pub const MAX_SESSIONS_TOTAL: u32 = 32;
/// The validity of a session when AUTH_VALIDITY_PERIOD is absent, in seconds.
pub const DEFAULT_VALIDITY_SECS: u32 = 60;

const TOKEN_MAGIC: &[u8; 8] = b"OHFAUTH1";
const MAC_LEN: usize = 32;

/// An open authentication session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Session {
    /// The bucket (database) the session's assets live in.
    pub bucket: String,
    pub accessibility: Accessibility,
    pub require_password_set: bool,
}

/// The device's session table.
pub(crate) struct Sessions {
    conn: Connection,
}

impl Sessions {
    pub fn open(device: &Device) -> Result<Sessions> {
        let path = device.state_subdir("asset")?.join("auth.db");
        let conn = Connection::open(path).map_err(db_error)?;
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(db_error)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS session (
                owner TEXT NOT NULL,
                challenge BLOB NOT NULL,
                bucket TEXT NOT NULL,
                accessibility INTEGER NOT NULL,
                require_password_set INTEGER NOT NULL,
                expires_ms INTEGER NOT NULL,
                PRIMARY KEY (owner, challenge))",
        )
        .map_err(db_error)?;
        Ok(Sessions { conn })
    }

    /// Opens a session valid for `validity_secs`: 24000016 when the app has 16 open or the
    /// device 32 (expired ones do not count).
    pub fn add(
        &mut self,
        owner: &str,
        challenge: &[u8],
        s: &Session,
        validity_secs: u32,
        now_ms: u64,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_error)?;
        tx.execute("DELETE FROM session WHERE expires_ms <= ?", [now_ms as i64])
            .map_err(db_error)?;
        let mine: u32 = tx
            .query_row(
                "SELECT COUNT(*) FROM session WHERE owner = ?",
                [owner],
                |r| r.get(0),
            )
            .map_err(db_error)?;
        let all: u32 = tx
            .query_row("SELECT COUNT(*) FROM session", [], |r| r.get(0))
            .map_err(db_error)?;
        if mine >= MAX_SESSIONS_PER_APP || all >= MAX_SESSIONS_TOTAL {
            return Err(Error::new(
                ErrorCode::AssetLimitExceeded,
                format!(
                    "{mine} authentication sessions open for {owner}, {all} on the device \
                     (at most {MAX_SESSIONS_PER_APP} per app and {MAX_SESSIONS_TOTAL} in all): call postQuery"
                ),
            ));
        }
        tx.execute(
            "INSERT INTO session VALUES (?, ?, ?, ?, ?, ?)",
            params![
                owner,
                challenge,
                s.bucket,
                s.accessibility as i64,
                s.require_password_set,
                (now_ms + u64::from(validity_secs) * 1000) as i64
            ],
        )
        .map_err(db_error)?;
        tx.commit().map_err(db_error)
    }

    /// The live session of `owner` for `challenge`.
    pub fn find(&self, owner: &str, challenge: &[u8], now_ms: u64) -> Result<Option<Session>> {
        let row = self
            .conn
            .query_row(
                "SELECT bucket, accessibility, require_password_set FROM session
                 WHERE owner = ? AND challenge = ? AND expires_ms > ?",
                params![owner, challenge, now_ms as i64],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, bool>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(db_error)?;
        Ok(row.and_then(|(bucket, acc, rps)| {
            Some(Session {
                bucket,
                accessibility: Accessibility::from_u32(u32::try_from(acc).ok()?)?,
                require_password_set: rps,
            })
        }))
    }

    /// Closes the session (nothing happens when there is none).
    pub fn remove(&self, owner: &str, challenge: &[u8]) -> Result<()> {
        self.conn
            .execute(
                "DELETE FROM session WHERE owner = ? AND challenge = ?",
                params![owner, challenge],
            )
            .map_err(db_error)?;
        Ok(())
    }
}

fn owner_hash(owner: &str) -> [u8; 32] {
    Sha256::digest(owner.as_bytes()).into()
}

fn token_mac(keys: &dyn KeyStore) -> Result<Hmac<Sha256>> {
    let key = keys.service_secret("auth-token")?;
    Ok(<Hmac<Sha256> as Mac>::new_from_slice(&key).expect("HMAC takes any key length"))
}

/// Mints the auth token for `owner`'s `challenge`.
pub(crate) fn mint_token(
    keys: &dyn KeyStore,
    owner: &str,
    challenge: &[u8],
    now_ms: u64,
) -> Result<Vec<u8>> {
    let mut t = Vec::with_capacity(AUTH_TOKEN_LEN);
    t.extend_from_slice(TOKEN_MAGIC);
    t.extend_from_slice(challenge);
    t.extend_from_slice(&owner_hash(owner));
    t.extend_from_slice(&now_ms.to_le_bytes());
    t.resize(AUTH_TOKEN_LEN - MAC_LEN, 0);
    let mut mac = token_mac(keys)?;
    mac.update(&t);
    t.extend_from_slice(&mac.finalize().into_bytes());
    Ok(t)
}

/// Checks that `token` was minted on this device for `owner`'s `challenge`: 24000004 if not.
pub(crate) fn verify_token(
    keys: &dyn KeyStore,
    owner: &str,
    challenge: &[u8],
    token: &[u8],
) -> Result<()> {
    let denied = |why: &str| Err(Error::new(ErrorCode::AssetAccessDenied, why.to_string()));
    if token.len() != AUTH_TOKEN_LEN || challenge.len() != CHALLENGE_LEN {
        return denied("the auth token is malformed");
    }
    let (body, tag) = token.split_at(AUTH_TOKEN_LEN - MAC_LEN);
    let mut mac = token_mac(keys)?;
    mac.update(body);
    if mac.verify_slice(tag).is_err() {
        return denied("the auth token is not valid on this device");
    }
    if &body[..8] != TOKEN_MAGIC || &body[8..40] != challenge || body[40..72] != owner_hash(owner) {
        return denied("the auth token was issued for another challenge or app");
    }
    Ok(())
}
