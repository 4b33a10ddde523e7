//! Trusted-device sync through backup and restore (device clone).
//!
//! **Backup.** When a backup session backs up an app, [`export_for_backup`] collects the app's
//! assets whose SYNC_TYPE has the TRUSTED_DEVICE bit, in every bucket (its own, its groups' where
//! it added them, plain and attribute-encrypted). Each must be readable on the source now: the
//! lock-state rules of seed 004 apply (DEVICE_UNLOCKED fails while the screen is locked,
//! REQUIRE_PASSWORD_SET and AuthType ANY fail without a lock-screen password, a tampered row fails
//! to decrypt); such assets are counted as failed, not fatal. NORMAL_LOCAL labels stay behind.
//! The rest travel as one sealed file, [`SYNC_PACKAGE_URI`], handed to the client before
//! `manage.json` and never listed in it: the secrets never appear in plaintext in any backup file.
//!
//! **Restore.** The restore recognises that file among the bundle's received files, removes it
//! from the app's restore folder before any data is placed (it never reaches the sandbox) and
//! calls [`import_from_restore`] for the restore target (following `app_mapping_relation`). Each
//! asset is re-encrypted under the target device's keys for the target app, keeping its create
//! and update times; an asset with the same alias is replaced (a clone brings the old device's
//! state, as it does for files). The target's rules apply too (REQUIRE_PASSWORD_SET and AuthType
//! ANY need a lock-screen password there, DEVICE_UNLOCKED an unlocked screen, a group the target app
//! does not declare cannot be joined); failures are counted.
//!
//! **Result.** Per (target app, bucket) the target records `{resultCode, totalCount, failedCount}`:
//! total = assets meant to travel (exported or not), failed = those that did not arrive on either
//! side, resultCode = 0 when the sync ran (failures are in failedCount), else the code that stopped
//! it (24000004 when the package was not sealed for this device's trust group, 24000007 for a
//! malformed one, 24000005 for an attribute-encrypted bucket unreadable before the first unlock).
//!
//! **The package key** lives in the trust group ([`trust`]): a random key shared by the devices
//! the user trusts, kept in 0600 files outside every device's backup folder, so a backup folder on
//! its own (copied, uploaded, lost) reveals no secret. It is as strong as the user's file
//! permissions on the key, the same protection the software key store of each device has; see
//! docs/asset-sync.md.

pub(crate) mod package;
pub(crate) mod results;
pub mod trust;

use std::collections::BTreeMap;

use package::{BucketCount, Contents, Exported};
use results::{BucketResult, SyncResults};

use super::crypto::{hex, unhex};
use super::db::{is_local_slot, Filter, Row, LABEL_SLOTS};
use super::device_state::DeviceState;
use super::store::{now_ms, AssetStore, Bucket};
use super::tags::{Accessibility, AuthType, SyncType};
use crate::device::Device;
use crate::error::{Error, ErrorCode, Result};

/// The reserved name of the sealed asset package among a bundle's backup files.
pub const SYNC_PACKAGE_URI: &str = "ohfile.assets.sealed";

/// The sealed package of `bundle`'s TRUSTED_DEVICE assets, or `None` when it has none. Never
/// fails a backup: a failure to seal is `None` too (the target then reports no sync).
pub fn export_for_backup(device: &Device, bundle: &str) -> Option<Vec<u8>> {
    export_package(device, bundle).ok().flatten()
}

/// Imports a package received for `source` into `target`'s store on `device`, recording the sync
/// result. Never fails a restore: problems end up in the recorded result.
pub fn import_from_restore(device: &Device, source: &str, target: &str, package: &[u8]) {
    let _ = import_package(device, source, target, package);
}

fn group_hex(b: &Bucket) -> Option<String> {
    b.group.as_deref().map(hex)
}

/// Builds the package (see the module docs).
pub(crate) fn export_package(device: &Device, bundle: &str) -> Result<Option<Vec<u8>>> {
    if !device.root().join("state/asset/db").is_dir() {
        return Ok(None); // no asset was ever stored on this device: touch nothing
    }
    let store = AssetStore::open(device, bundle)?;
    let mut contents = Contents {
        source: bundle.to_string(),
        exported_at: now_ms()?,
        buckets: Vec::new(),
        assets: Vec::new(),
    };
    let filter = Filter {
        sync_type: Some(SyncType::TRUSTED_DEVICE),
        ..Filter::default()
    };
    let mut dbs = store.dbs()?;
    for bucket in store.buckets()? {
        let mut count = BucketCount {
            group: group_hex(&bucket),
            attr_encrypted: bucket.attr_encrypted,
            total: 0,
            failed: 0,
            error: None,
        };
        let found = match store.existing_db(&mut dbs, &bucket) {
            Ok(Some(db)) => db.find(&filter),
            Ok(None) => continue,
            Err(e) => Err(e),
        };
        let rows = match found {
            Ok(rows) => rows,
            Err(e) => {
                count.error = Some(e.code().code());
                contents.buckets.push(count);
                continue;
            }
        };
        // A group's assets travel with the app that added them.
        let rows: Vec<Row> = rows.into_iter().filter(|r| r.origin == bundle).collect();
        if rows.is_empty() {
            continue;
        }
        // An attribute-encrypted bucket before the first unlock: every asset in it fails.
        let state = store.state_for(&bucket);
        for row in rows {
            count.total += 1;
            let secret = state
                .clone()
                .and_then(|state| {
                    state.check_access(
                        row.accessibility,
                        row.require_password_set,
                        row.auth_type == AuthType::Any,
                    )
                })
                .and_then(|()| store.open_secret(&row));
            match secret {
                Ok(secret) => contents.assets.push(exported(&row, &bucket, &secret)),
                Err(_) => count.failed += 1,
            }
        }
        contents.buckets.push(count);
    }
    drop(dbs);
    if contents.buckets.is_empty() {
        return Ok(None);
    }
    let key = trust::group_key_for_export(device)?;
    package::seal(&key, &contents).map(Some)
}

fn exported(row: &Row, bucket: &Bucket, secret: &[u8]) -> Exported {
    Exported {
        group: group_hex(bucket),
        attr_encrypted: bucket.attr_encrypted,
        alias: hex(&row.alias),
        secret: hex(secret),
        sync_type: row.sync_type,
        accessibility: row.accessibility as u32,
        auth_type: row.auth_type as u32,
        require_password_set: row.require_password_set,
        is_persistent: row.is_persistent,
        wrap_type: row.wrap_type,
        create_time: row.create_time,
        update_time: row.update_time,
        labels: row
            .labels
            .iter()
            .enumerate()
            .filter(|(i, _)| !is_local_slot(*i))
            .filter_map(|(i, l)| l.as_deref().map(|l| (i, hex(l))))
            .collect(),
    }
}

/// Imports a package and records the result (see the module docs).
pub(crate) fn import_package(
    device: &Device,
    source: &str,
    target: &str,
    package_bytes: &[u8],
) -> Result<()> {
    let store = AssetStore::open(device, target)?;
    let opened = trust::group_key_for_import(device).and_then(|key| match key {
        Some(key) => package::open(&key, source, package_bytes),
        None => Err(Error::new(
            ErrorCode::AssetAccessDenied,
            "this device is in no trust group: it has no key to open the asset package",
        )),
    });
    let mut results = SyncResults::open(device)?;
    let contents = match opened {
        Ok(c) => c,
        Err(e) => {
            let failure = BucketResult {
                bucket: Bucket::default().id(),
                result_code: e.code().code(),
                total: 0,
                failed: 0,
            };
            results.record(target, &[failure], now_ms()?)?;
            return Err(e);
        }
    };
    // Per bucket: (result code, total, failed), starting from what the source counted.
    let mut tally: BTreeMap<String, BucketResult> = BTreeMap::new();
    for b in &contents.buckets {
        let bucket = Bucket {
            group: b.group.as_deref().and_then(unhex),
            attr_encrypted: b.attr_encrypted,
        };
        tally.insert(
            bucket.id(),
            BucketResult {
                bucket: bucket.id(),
                result_code: b.error.unwrap_or(0),
                total: b.total,
                failed: b.failed,
            },
        );
    }
    let state = DeviceState::read(device)?;
    for asset in &contents.assets {
        let bucket = Bucket {
            group: asset.group.as_deref().and_then(unhex),
            attr_encrypted: asset.attr_encrypted,
        };
        let imported = import_one(&store, &state, &bucket, asset);
        let entry = tally.entry(bucket.id()).or_insert_with(|| BucketResult {
            bucket: bucket.id(),
            result_code: 0,
            total: 1,
            failed: 0,
        });
        if imported.is_err() {
            entry.failed += 1;
        }
    }
    let tally: Vec<BucketResult> = tally.into_values().collect();
    results.record(target, &tally, now_ms()?)
}

fn import_one(
    store: &AssetStore,
    state: &DeviceState,
    bucket: &Bucket,
    a: &Exported,
) -> Result<()> {
    let corrupt = || Error::new(ErrorCode::AssetDataCorrupted, "malformed asset in package");
    store.check_bucket(bucket)?;
    store.state_for(bucket)?;
    let accessibility = Accessibility::from_u32(a.accessibility).ok_or_else(corrupt)?;
    let auth_type = AuthType::from_u32(a.auth_type).ok_or_else(corrupt)?;
    state.check_access(
        accessibility,
        a.require_password_set,
        auth_type == AuthType::Any,
    )?;
    let mut labels: [Option<Vec<u8>>; LABEL_SLOTS] = Default::default();
    for (i, v) in &a.labels {
        if *i >= LABEL_SLOTS || is_local_slot(*i) {
            return Err(corrupt());
        }
        labels[*i] = Some(unhex(v).ok_or_else(corrupt)?);
    }
    let mut row = Row {
        id: 0,
        alias: unhex(&a.alias).ok_or_else(corrupt)?,
        owner: store.owner_key(bucket)?,
        origin: store.owner().to_string(),
        sync_type: a.sync_type,
        accessibility,
        auth_type,
        require_password_set: a.require_password_set,
        is_persistent: a.is_persistent,
        wrap_type: a.wrap_type,
        attr_encrypted: bucket.attr_encrypted,
        create_time: a.create_time,
        update_time: a.update_time,
        labels,
        secret: Vec::new(),
    };
    let secret = unhex(&a.secret).ok_or_else(corrupt)?;
    row.secret = store.seal_secret(&row, &secret)?;
    let mut dbs = store.dbs()?;
    store.db(&mut dbs, bucket)?.replace(&row)
}
