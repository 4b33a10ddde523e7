'use strict';
// Assets travel with a device clone, through the public APIs only: the app adds assets with
// @ohos.security.asset on device A, the package's clone client (lib/tools/clone.js, built on
// @ohos.file.backup) backs it up into a folder and restores it on device B, where the app queries
// its assets and asks querySyncResult how the sync went. Seed 004's accessibility rules apply on
// both ends and are counted, not fatal.
require('ohfile/register');
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const asset = require('@ohos.security.asset');
const { util } = require('@kit.ArkTS');
const { backupToDir, restoreFromDir } = require('../../node-binding/lib/tools/clone');
const { makeDevice, removeTree } = require('./helpers');

const BUNDLE = 'com.example.wallet';
const enc = new util.TextEncoder();
const b = (s) => enc.encodeInto(s);
const str = (u) => Buffer.from(u).toString('utf8');

let work;
let trust;
test.before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ohfile-asset-clone-'));
  trust = path.join(work, 'trust-group'); // shared by A and B: they trust each other
});
test.after(() => removeTree(work));

function device(state, trustGroup = trust) {
  return makeDevice({
    device: { deviceType: 'phone', trustGroup, ...state },
    apps: { [BUNDLE]: { config: { allowToBackupRestore: true }, files: { 'data/storage/el2/base/files/app.txt': 'app data' } } },
  });
}

/** Runs `fn` as the app on the device at `root`. */
async function asApp(root, fn) {
  const old = { root: process.env.OHFILE_ROOT, bundle: process.env.OHFILE_BUNDLE };
  process.env.OHFILE_ROOT = root;
  process.env.OHFILE_BUNDLE = BUNDLE;
  try {
    return await fn();
  } finally {
    for (const [k, v] of [['OHFILE_ROOT', old.root], ['OHFILE_BUNDLE', old.bundle]]) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

function setState(root, state) {
  const file = path.join(root, 'device.json');
  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), ...state }));
}

/** Every regular file under `dir`, recursively. */
function filesUnder(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : [p];
  });
}

async function secretOf(alias) {
  try {
    const [row] = await asset.query(new Map([[asset.Tag.ALIAS, b(alias)], [asset.Tag.RETURN_TYPE, asset.ReturnType.ALL]]));
    return row;
  } catch (e) {
    if (e.code === 24000002) return null;
    throw e;
  }
}

const SYNCED = {
  // alias: [secret, extra attributes]
  plain_1: ['secret-plain-1', []],
  plain_2: ['secret-plain-2', []],
  labelled: ['secret-labelled', [[asset.Tag.DATA_LABEL_NORMAL_1, b('normal travels')], [asset.Tag.DATA_LABEL_NORMAL_LOCAL_1, b('local stays')], [asset.Tag.DATA_LABEL_CRITICAL_1, b('critical travels')]]],
  // Unreadable on A once its screen is locked: fails at export.
  unlocked_only: ['secret-unlocked-only', [[asset.Tag.ACCESSIBILITY, asset.Accessibility.DEVICE_UNLOCKED]]],
  // B has no lock-screen password: fails at import.
  needs_password: ['secret-needs-password', [[asset.Tag.REQUIRE_PASSWORD_SET, true]]],
};
const NEVER = { never_1: 'secret-never-1', never_2: 'secret-never-2' };

test('5 TRUSTED_DEVICE assets (one DEVICE_UNLOCKED on a locked source, one REQUIRE_PASSWORD_SET for a target without password) and 2 NEVER ones', async () => {
  const a = device({ lockScreenPasswordSet: true });
  const bDev = device({ lockScreenPasswordSet: false });
  const dir = path.join(work, 'backup');

  await asApp(a, async () => {
    for (const [alias, [secret, extra]] of Object.entries(SYNCED)) {
      await asset.add(new Map([[asset.Tag.SECRET, b(secret)], [asset.Tag.ALIAS, b(alias)], [asset.Tag.SYNC_TYPE, asset.SyncType.TRUSTED_DEVICE], ...extra]));
    }
    for (const [alias, secret] of Object.entries(NEVER)) {
      await asset.add(new Map([[asset.Tag.SECRET, b(secret)], [asset.Tag.ALIAS, b(alias)]]));
    }
  });
  setState(a, { screenLocked: true });

  const backedUp = await backupToDir(a, dir, [BUNDLE]);
  assert.equal(backedUp.bundles[BUNDLE].ok, true, JSON.stringify(backedUp.bundles));

  // No secret appears in plaintext in any backup file (the sealed package included).
  const files = filesUnder(dir);
  assert.ok(files.length >= 2);
  const secrets = [...Object.values(SYNCED).map(([s]) => s), ...Object.values(NEVER), 'local stays'];
  for (const f of files) {
    const bytes = fs.readFileSync(f);
    for (const s of secrets) assert.equal(bytes.includes(s), false, `${s} in plaintext in ${path.relative(dir, f)}`);
  }

  const restored = await restoreFromDir(bDev, dir, [BUNDLE]);
  assert.equal(restored.bundles[BUNDLE].ok, true, JSON.stringify(restored.bundles));
  assert.equal(fs.readFileSync(path.join(bDev, 'apps', BUNDLE, 'sandbox/data/storage/el2/base/files/app.txt'), 'utf8'), 'app data');

  await asApp(bDev, async () => {
    for (const alias of ['plain_1', 'plain_2', 'labelled']) {
      const row = await secretOf(alias);
      assert.ok(row, `${alias} arrived`);
      assert.equal(str(row.get(asset.Tag.SECRET)), SYNCED[alias][0]);
      assert.equal(row.get(asset.Tag.SYNC_TYPE), asset.SyncType.TRUSTED_DEVICE);
    }
    const labelled = await secretOf('labelled');
    assert.equal(str(labelled.get(asset.Tag.DATA_LABEL_NORMAL_1)), 'normal travels');
    assert.equal(str(labelled.get(asset.Tag.DATA_LABEL_CRITICAL_1)), 'critical travels');
    assert.equal(labelled.has(asset.Tag.DATA_LABEL_NORMAL_LOCAL_1), false, 'local labels never leave the device');
    for (const alias of ['unlocked_only', 'needs_password', ...Object.keys(NEVER)]) {
      assert.equal(await secretOf(alias), null, `${alias} must not be on B`);
    }
    assert.deepEqual(await asset.querySyncResult(new Map()), { resultCode: 0, totalCount: 5, failedCount: 2 });
    // Other buckets saw no sync.
    assert.deepEqual(await asset.querySyncResult(new Map([[asset.Tag.REQUIRE_ATTR_ENCRYPTED, true]])), { resultCode: 0, totalCount: 0, failedCount: 0 });
  });

  // A still has everything (a backup takes nothing away).
  setState(a, { screenLocked: false });
  await asApp(a, async () => {
    for (const alias of [...Object.keys(SYNCED), ...Object.keys(NEVER)]) assert.ok(await secretOf(alias), alias);
  });
});

test('a device outside the trust group cannot open the package: querySyncResult reports the code without counts', async () => {
  const a = device({ lockScreenPasswordSet: true });
  const stranger = device({}, path.join(work, 'other-trust-group'));
  const dir = path.join(work, 'backup-stranger');
  await asApp(a, () => asset.add(new Map([[asset.Tag.SECRET, b('s1')], [asset.Tag.ALIAS, b('x1')], [asset.Tag.SYNC_TYPE, asset.SyncType.TRUSTED_DEVICE]])));
  assert.equal((await backupToDir(a, dir, [BUNDLE])).bundles[BUNDLE].ok, true);
  assert.equal((await restoreFromDir(stranger, dir, [BUNDLE])).bundles[BUNDLE].ok, true);
  await asApp(stranger, async () => {
    assert.equal(await secretOf('x1'), null);
    // 24000004: the package was not sealed for this device's trust group. Nothing was counted,
    // so both counts are absent (the documented shape of SyncResult).
    const res = await asset.querySyncResult(new Map());
    assert.deepEqual(res, { resultCode: 24000004 });
    assert.deepEqual(Object.keys(res), ['resultCode']);
  });
});
