//! [`AssetStore`]: the asset operations of one owner (app) on one device.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::auth::{self, Session, Sessions, DEFAULT_VALIDITY_SECS};
use super::crypto::{self, hex};
use super::db::{is_local_slot, label_slot, Codec, Db, Filter, Row, LABEL_SLOTS};
use super::device_state::{DeviceState, StateReader};
use super::keystore::{KeyId, KeyStore, SoftwareKeyStore};
use super::profile::AppProfile;
use super::sync::results::SyncResults;
use super::tags::{Accessibility, AuthType, ConflictResolution, ReturnType, SyncType, Tag};
use super::validate::{check, Op};
use super::value::{AssetMap, MapExt, SyncResult, Value};
use super::watched::Watched;
use crate::device::{validate_bundle_name, Device};
use crate::error::{Error, ErrorCode, Result};

/// Where an asset lives: the app's own store or a group's, plain or with encrypted attributes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub(crate) struct Bucket {
    pub group: Option<Vec<u8>>,
    pub attr_encrypted: bool,
}

impl Bucket {
    /// The bucket a validated map names.
    pub fn of(m: &AssetMap) -> Bucket {
        Bucket {
            group: m.bytes(Tag::GROUP_ID).map(<[u8]>::to_vec),
            attr_encrypted: m.boolean(Tag::REQUIRE_ATTR_ENCRYPTED).unwrap_or(false),
        }
    }

    /// A stable name of the bucket (sessions and sync results key on it).
    pub fn id(&self) -> String {
        format!(
            "{}{}",
            self.group
                .as_deref()
                .map(|g| format!("group:{}", hex(g)))
                .unwrap_or_else(|| "app".into()),
            if self.attr_encrypted { "+enc" } else { "" }
        )
    }
}

/// The assets of one owner (an app, by bundle name) on one device.
pub struct AssetStore {
    device: Device,
    owner: String,
    /// `app:<owner>`, the owner of the app's own bucket.
    app_key: String,
    /// The app's bundle.json, consulted only by what needs it (groups, IS_PERSISTENT, sync).
    profile: Watched<Arc<AppProfile>>,
    keys: Arc<dyn KeyStore>,
    dbs: Mutex<HashMap<Bucket, Db>>,
    state: StateReader,
}

impl std::fmt::Debug for AssetStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssetStore")
            .field("device", &self.device.root())
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

pub(crate) fn now_ms() -> Result<u64> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .map_err(|_| {
            Error::new(
                ErrorCode::AssetGetSystemTimeError,
                "the clock is before 1970",
            )
        })
}

fn not_found(what: &str) -> Error {
    Error::new(ErrorCode::AssetNotFound, what.to_string())
}

impl AssetStore {
    /// The store of `owner` (a bundle name) on `device`, with the default software key store.
    pub fn open(device: &Device, owner: &str) -> Result<AssetStore> {
        let keys = Arc::new(SoftwareKeyStore::open(device)?);
        AssetStore::with_key_store(device, owner, keys)
    }

    /// The store of `owner` with another key store. Auth tokens are checked with that store's
    /// service secret, so they must come from the same store ([`authenticate_user`] uses the
    /// default software one).
    pub fn with_key_store(
        device: &Device,
        owner: &str,
        keys: Arc<dyn KeyStore>,
    ) -> Result<AssetStore> {
        validate_bundle_name(owner)
            .map_err(|e| Error::new(ErrorCode::ParameterError, e.detail().to_string()))?;
        let store = AssetStore {
            device: device.clone(),
            owner: owner.to_string(),
            app_key: format!("app:{owner}"),
            profile: Watched::new(AppProfile::path(device, owner)),
            keys,
            dbs: Mutex::new(HashMap::new()),
            state: StateReader::new(device),
        };
        store.profile()?; // a malformed profile is reported at open, as before any use
        Ok(store)
    }

    /// The owner's bundle name.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Adds an asset (`asset.add`).
    pub fn add(&self, attrs: &AssetMap) -> Result<()> {
        check(Op::Add, attrs)?;
        if attrs.contains_key(&Tag::IS_PERSISTENT) && !self.profile()?.may_persist {
            return Err(Error::new(
                ErrorCode::PermissionDenied,
                format!(
                    "IS_PERSISTENT needs {}",
                    super::profile::STORE_PERSISTENT_DATA
                ),
            ));
        }
        let bucket = self.bucket(attrs)?;
        let state = self.state_for(&bucket)?;
        let mut labels: [Option<Vec<u8>>; LABEL_SLOTS] = Default::default();
        for (tag, v) in attrs {
            if let (Some(i), Value::Bytes(b)) = (label_slot(*tag), v) {
                labels[i] = Some(b.clone());
            }
        }
        let now = now_ms()?;
        let mut row = Row {
            id: 0,
            alias: attrs.bytes(Tag::ALIAS).unwrap_or_default().to_vec(),
            owner: self.owner_key(&bucket)?,
            origin: self.owner.clone(),
            sync_type: attrs.number(Tag::SYNC_TYPE).unwrap_or(SyncType::NEVER),
            accessibility: attrs
                .number(Tag::ACCESSIBILITY)
                .and_then(Accessibility::from_u32)
                .unwrap_or(Accessibility::DeviceFirstUnlocked),
            auth_type: attrs
                .number(Tag::AUTH_TYPE)
                .and_then(AuthType::from_u32)
                .unwrap_or(AuthType::None),
            require_password_set: attrs.boolean(Tag::REQUIRE_PASSWORD_SET).unwrap_or(false),
            is_persistent: attrs.boolean(Tag::IS_PERSISTENT).unwrap_or(false),
            wrap_type: attrs.number(Tag::WRAP_TYPE).unwrap_or(0),
            attr_encrypted: bucket.attr_encrypted,
            create_time: now,
            update_time: now,
            labels,
            secret: Vec::new(),
        };
        state.check_access(
            row.accessibility,
            row.require_password_set,
            row.auth_type == AuthType::Any,
        )?;
        row.secret = self.seal_secret(&row, attrs.bytes(Tag::SECRET).unwrap_or_default())?;
        let overwrite =
            attrs.number(Tag::CONFLICT_RESOLUTION) == Some(ConflictResolution::Overwrite as u32);
        let mut dbs = self.dbs()?;
        let db = self.db(&mut dbs, &bucket)?;
        if overwrite {
            db.replace(&row)
        } else {
            db.insert(&row)
        }
    }

    /// Removes the assets matching `query` (`asset.remove`): 24000002 when none does.
    pub fn remove(&self, query: &AssetMap) -> Result<()> {
        check(Op::Remove, query)?;
        let bucket = self.bucket(query)?;
        self.check_reachable(&bucket)?;
        let mut dbs = self.dbs()?;
        let db = self.db(&mut dbs, &bucket)?;
        if db.delete_matching(&Filter::from_map(query))? == 0 {
            return Err(not_found("no asset matches the query"));
        }
        Ok(())
    }

    /// Updates the asset matching `query` (which names its ALIAS) with the normal and local labels
    /// and the secret of `update` (`asset.update`).
    pub fn update(&self, query: &AssetMap, update: &AssetMap) -> Result<()> {
        check(Op::UpdateQuery, query)?;
        check(Op::UpdateAttrs, update)?;
        let bucket = self.bucket(query)?;
        // The lock state matters only when a new secret is sealed.
        let state = match update.contains_key(&Tag::SECRET) {
            true => Some(self.state_for(&bucket)?),
            false => {
                self.check_reachable(&bucket)?;
                None
            }
        };
        let mut dbs = self.dbs()?;
        let db = self.db(&mut dbs, &bucket)?;
        let rows = db.find(&Filter::from_map(query))?;
        if rows.is_empty() {
            return Err(not_found("no asset matches the query"));
        }
        // Local labels never leave the device: changing only them is not a change to sync.
        let only_local = update
            .keys()
            .all(|t| label_slot(*t).is_some_and(is_local_slot));
        let now = now_ms()?;
        for mut row in rows {
            for (tag, v) in update {
                if let (Some(i), Value::Bytes(b)) = (label_slot(*tag), v) {
                    row.labels[i] = Some(b.clone());
                }
            }
            if let (Some(secret), Some(state)) = (update.bytes(Tag::SECRET), &state) {
                state.check_access(row.accessibility, row.require_password_set, false)?;
                row.secret = self.seal_secret(&row, secret)?;
            }
            if !only_local {
                // Strictly later than before, even within the same millisecond.
                row.update_time = now.max(row.update_time + 1);
            }
            db.update(&row)?;
        }
        Ok(())
    }

    /// Opens a user-authentication session for the AuthType ANY assets matching `query` and
    /// returns its 32-byte challenge (`asset.preQuery`).
    pub fn pre_query(&self, query: &AssetMap) -> Result<Vec<u8>> {
        check(Op::PreQuery, query)?;
        let bucket = self.bucket(query)?;
        let state = self.state_for(&bucket)?;
        let mut filter = Filter::from_map(query);
        filter.auth_type = Some(AuthType::Any as u32);
        let rows = {
            let mut dbs = self.dbs()?;
            self.db(&mut dbs, &bucket)?.find(&filter)?
        };
        let mut classes: Vec<(Accessibility, bool)> = rows
            .iter()
            .map(|r| (r.accessibility, r.require_password_set))
            .collect();
        classes.sort_by_key(|(a, r)| (*a as u32, *r));
        classes.dedup();
        let (accessibility, require_password_set) = match classes.as_slice() {
            [] => return Err(not_found("no asset needing user authentication matches")),
            [one] => *one,
            _ => {
                return Err(Error::new(
                    ErrorCode::AssetUnsupported,
                    "assets of several access-control types cannot be authenticated together",
                ))
            }
        };
        state.check_access(accessibility, require_password_set, true)?;
        let validity = query
            .number(Tag::AUTH_VALIDITY_PERIOD)
            .unwrap_or(DEFAULT_VALIDITY_SECS);
        let challenge = crypto::random::<32>()?.to_vec();
        Sessions::open(&self.device)?.add(
            &self.owner,
            &challenge,
            &Session {
                bucket: bucket.id(),
                accessibility,
                require_password_set,
            },
            validity,
            now_ms()?,
        )?;
        Ok(challenge)
    }

    /// Finds assets (`asset.query`): attributes by default; RETURN_TYPE ALL returns the one asset
    /// named by ALIAS with its secret. 24000002 when nothing matches.
    pub fn query(&self, query: &AssetMap) -> Result<Vec<AssetMap>> {
        check(Op::Query, query)?;
        let challenge = query.bytes(Tag::AUTH_CHALLENGE);
        let token = query.bytes(Tag::AUTH_TOKEN);
        if challenge.is_some() != token.is_some() {
            return Err(Error::new(
                ErrorCode::ParameterError,
                "AUTH_CHALLENGE and AUTH_TOKEN go together",
            ));
        }
        let all = query.number(Tag::RETURN_TYPE) == Some(ReturnType::All as u32);
        if all && !query.contains_key(&Tag::ALIAS) {
            return Err(Error::new(
                ErrorCode::AssetUnsupported,
                "RETURN_TYPE ALL returns one asset: name it with ALIAS",
            ));
        }
        let bucket = self.bucket(query)?;
        self.check_reachable(&bucket)?;
        let mut rows = {
            let mut dbs = self.dbs()?;
            self.db(&mut dbs, &bucket)?.find(&Filter::from_map(query))?
        };
        if all {
            let Some(row) = rows.pop() else {
                return Err(not_found("no asset matches the query"));
            };
            if row.auth_type == AuthType::Any {
                let (Some(challenge), Some(token)) = (challenge, token) else {
                    return Err(Error::new(
                        ErrorCode::ParameterError,
                        "this asset needs user authentication: give AUTH_CHALLENGE and AUTH_TOKEN",
                    ));
                };
                let session = Sessions::open(&self.device)?
                    .find(&self.owner, challenge, now_ms()?)?
                    .ok_or_else(|| {
                        not_found(
                            "the authentication session expired or does not exist: call preQuery",
                        )
                    })?;
                if session.bucket != bucket.id()
                    || session.accessibility != row.accessibility
                    || session.require_password_set != row.require_password_set
                {
                    return Err(Error::new(
                        ErrorCode::AssetAccessDenied,
                        "the challenge was issued for assets of another access-control type",
                    ));
                }
                auth::verify_token(&*self.keys, &self.owner, challenge, token)?;
            }
            self.state.read()?.check_access(
                row.accessibility,
                row.require_password_set,
                row.auth_type == AuthType::Any,
            )?;
            let secret = self.open_secret(&row)?;
            return Ok(vec![row.into_map(Some(secret))]);
        }
        if let Some(order) = query.number(Tag::RETURN_ORDERED_BY).and_then(label_slot) {
            // Stable: equal labels keep insertion order; a missing label sorts first (as SQL NULL).
            rows.sort_by(|a, b| a.labels[order].cmp(&b.labels[order]));
        }
        let offset = query.number(Tag::RETURN_OFFSET).unwrap_or(0) as usize;
        let limit = query
            .number(Tag::RETURN_LIMIT)
            .map_or(usize::MAX, |l| l as usize);
        let out: Vec<AssetMap> = rows
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|r| r.into_map(None))
            .collect();
        if out.is_empty() {
            return Err(not_found("no asset matches the query"));
        }
        Ok(out)
    }

    /// Closes the authentication session of `handle`'s AUTH_CHALLENGE (`asset.postQuery`).
    pub fn post_query(&self, handle: &AssetMap) -> Result<()> {
        check(Op::PostQuery, handle)?;
        let challenge = handle.bytes(Tag::AUTH_CHALLENGE).unwrap_or_default();
        Sessions::open(&self.device)?.remove(&self.owner, challenge)
    }

    /// The result of the last sync of this app's assets in the bucket `query` names (GROUP_ID?,
    /// REQUIRE_ATTR_ENCRYPTED?): `{0, 0, 0}` when there was none. Any bad argument is 24000018.
    pub fn query_sync_result(&self, query: &AssetMap) -> Result<SyncResult> {
        check(Op::QuerySyncResult, query)?;
        let bucket = self.bucket(query).map_err(|e| {
            Error::new(
                ErrorCode::AssetParamVerificationFailed,
                e.detail().to_string(),
            )
        })?;
        Ok(SyncResults::open(&self.device)?
            .get(&self.owner, &bucket.id())?
            .unwrap_or(SyncResult::new(0, 0, 0)))
    }

    // Internals shared with sync.

    /// The bucket `m` names: a GROUP_ID must be one of the app's `assetAccessGroups` (401).
    pub(crate) fn bucket(&self, m: &AssetMap) -> Result<Bucket> {
        let b = Bucket::of(m);
        self.check_bucket(&b)?;
        Ok(b)
    }

    pub(crate) fn check_bucket(&self, b: &Bucket) -> Result<()> {
        if let Some(g) = &b.group {
            if !self.profile()?.groups.iter().any(|x| x == g) {
                return Err(Error::new(
                    ErrorCode::ParameterError,
                    format!(
                        "{} does not declare the group {:?} in assetAccessGroups",
                        self.owner,
                        String::from_utf8_lossy(g)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Checks that the bucket's database is reachable now: attribute-encrypted data, like
    /// OpenHarmony's CE databases, needs the first unlock; plain data is always reachable (so
    /// attribute-only operations never read the lock state).
    pub(crate) fn check_reachable(&self, b: &Bucket) -> Result<()> {
        if b.attr_encrypted {
            self.state_for(b)?;
        }
        Ok(())
    }

    /// The device state, after checking that the bucket's database is reachable.
    pub(crate) fn state_for(&self, b: &Bucket) -> Result<DeviceState> {
        let state = self.state.read()?;
        if b.attr_encrypted && state.password_set && !state.unlocked_since_boot {
            return Err(Error::new(
                ErrorCode::AssetStatusMismatch,
                "encrypted attributes are readable only after the first unlock",
            ));
        }
        Ok(state)
    }

    /// The app's profile as its bundle.json says now.
    fn profile(&self) -> Result<Arc<AppProfile>> {
        let path = self.profile.path();
        self.profile
            .get(|bytes| AppProfile::parse(bytes, path).map(Arc::new))
    }

    /// The owner the bucket's keys and AAD belong to.
    pub(crate) fn owner_key(&self, b: &Bucket) -> Result<String> {
        Ok(match &b.group {
            None => self.app_key.clone(),
            Some(g) => format!("group:{},{}", self.profile()?.developer_id, hex(g)),
        })
    }

    fn db_path(&self, b: &Bucket) -> Result<PathBuf> {
        let name = match &b.group {
            None => format!("app_{}", self.owner),
            Some(_) => format!(
                "group_{}",
                hex(&Sha256::digest(self.owner_key(b)?.as_bytes()))
            ),
        };
        let prefix = if b.attr_encrypted { "enc_" } else { "" };
        Ok(self
            .device
            .state_subdir("asset/db")?
            .join(format!("{prefix}{name}.db")))
    }

    pub(crate) fn dbs(&self) -> Result<MutexGuard<'_, HashMap<Bucket, Db>>> {
        Ok(self.dbs.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The bucket's database, opened (and created) on first use.
    pub(crate) fn db<'a>(
        &self,
        dbs: &'a mut HashMap<Bucket, Db>,
        b: &Bucket,
    ) -> Result<&'a mut Db> {
        if !dbs.contains_key(b) {
            let codec = if b.attr_encrypted {
                Codec::sealed(
                    &self
                        .keys
                        .service_secret(&format!("attr:{}", self.owner_key(b)?))?,
                )
            } else {
                Codec::Plain
            };
            let db = Db::open(&self.db_path(b)?, codec)?;
            dbs.insert(b.clone(), db);
        }
        Ok(dbs.get_mut(b).expect("inserted above"))
    }

    /// The bucket's database if it exists (export never creates one).
    pub(crate) fn existing_db<'a>(
        &self,
        dbs: &'a mut HashMap<Bucket, Db>,
        b: &Bucket,
    ) -> Result<Option<&'a mut Db>> {
        if !dbs.contains_key(b) && !self.db_path(b)?.is_file() {
            return Ok(None);
        }
        self.db(dbs, b).map(Some)
    }

    /// Every bucket the app may have: its own and its groups', plain and encrypted.
    pub(crate) fn buckets(&self) -> Result<Vec<Bucket>> {
        let profile = self.profile()?;
        let groups = std::iter::once(None).chain(profile.groups.iter().cloned().map(Some));
        Ok(groups
            .flat_map(|group| {
                [false, true].map(|attr_encrypted| Bucket {
                    group: group.clone(),
                    attr_encrypted,
                })
            })
            .collect())
    }

    fn key_id(row: &Row) -> KeyId {
        KeyId {
            owner: row.owner.clone(),
            accessibility: row.accessibility,
            auth_type: row.auth_type,
            require_password_set: row.require_password_set,
        }
    }

    /// Seals `plain` as `row`'s secret (binding its critical attributes).
    pub(crate) fn seal_secret(&self, row: &Row, plain: &[u8]) -> Result<Vec<u8>> {
        self.keys.encrypt(&Self::key_id(row), &row.aad(), plain)
    }

    /// Opens `row`'s secret: 24000007 when the row was tampered with.
    pub(crate) fn open_secret(&self, row: &Row) -> Result<Vec<u8>> {
        self.keys
            .decrypt(&Self::key_id(row), &row.aad(), &row.secret)
    }
}

/// The documented software stand-in for user authentication (OpenHarmony's UserIAM): "the user
/// authenticated" for `challenge`, so here is the AUTH_TOKEN value to pass to `query` with
/// AUTH_CHALLENGE. The challenge must be one of `owner`'s open [`AssetStore::pre_query`] sessions
/// (else 24000004: a user authenticates for an app's pending request, never for an arbitrary or
/// another app's value), and the device needs a lock-screen password (the credential the user
/// proves), else 24000005; a challenge that is not 32 bytes is 401.
pub fn authenticate_user(device: &Device, owner: &str, challenge: &[u8]) -> Result<Vec<u8>> {
    validate_bundle_name(owner)
        .map_err(|e| Error::new(ErrorCode::ParameterError, e.detail().to_string()))?;
    if challenge.len() != super::validate::CHALLENGE_LEN {
        return Err(Error::new(
            ErrorCode::ParameterError,
            format!("a challenge is 32 bytes, not {}", challenge.len()),
        ));
    }
    let now = now_ms()?;
    if Sessions::open(device)?
        .find(owner, challenge, now)?
        .is_none()
    {
        return Err(Error::new(
            ErrorCode::AssetAccessDenied,
            format!("the challenge is not one of an open preQuery session of {owner}"),
        ));
    }
    if !DeviceState::read(device)?.password_set {
        return Err(Error::new(
            ErrorCode::AssetStatusMismatch,
            "no lock-screen password is set: there is no credential to authenticate",
        ));
    }
    let keys = SoftwareKeyStore::open(device)?;
    auth::mint_token(&keys, owner, challenge, now)
}
