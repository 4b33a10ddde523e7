'use strict';
// @ohos.file.cloudSync's surface: enums, module specifiers, fileUri, argument checks (401 with
// cloudSync's message), constructors, and that a registered listener never keeps a script alive.
require('ohfile/register');
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const cloudSync = require('@ohos.file.cloudSync');
const fileUri = require('@ohos.file.fileuri');
const { withRoot } = require('./helpers');
const { BUNDLE, cloudDevices, uriOf } = require('./cloudsync-helpers');

const repo = path.resolve(__dirname, '..', '..');

function assert401(fn, what) {
  assert.throws(fn, (e) => {
    assert.equal(e.code, 401, `${what}: code`);
    assert.equal(typeof e.code, 'number');
    assert.ok(e instanceof Error);
    assert.match(e.message, /^The input parameter is invalid/, `${what}: message`);
    return true;
  }, what);
}

async function withEnv(vars, fn) {
  const old = {};
  for (const [k, v] of Object.entries(vars)) {
    old[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(old)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

test('enums carry the documented numbers and cannot be changed', () => {
  const expected = {
    SyncState: { UPLOADING: 0, UPLOAD_FAILED: 1, DOWNLOADING: 2, DOWNLOAD_FAILED: 3, COMPLETED: 4, STOPPED: 5 },
    ErrorType: {
      NO_ERROR: 0, NETWORK_UNAVAILABLE: 1, WIFI_UNAVAILABLE: 2, BATTERY_LEVEL_LOW: 3, BATTERY_LEVEL_WARNING: 4,
      CLOUD_STORAGE_FULL: 5, LOCAL_STORAGE_FULL: 6, DEVICE_TEMPERATURE_TOO_HIGH: 7, REMOTE_SERVER_ABNORMAL: 8,
      RESPONSE_TIME_OUT: 9, UNKNOWN_ERROR: 10,
    },
    State: { RUNNING: 0, COMPLETED: 1, FAILED: 2, STOPPED: 3, MISSING: 4 },
    DownloadErrorType: { NO_ERROR: 0, UNKNOWN_ERROR: 1, NETWORK_UNAVAILABLE: 2, LOCAL_STORAGE_FULL: 3, CONTENT_NOT_FOUND: 4, FREQUENT_USER_REQUESTS: 5 },
    FileSyncState: { UPLOADING: 0, DOWNLOADING: 1, COMPLETED: 2, STOPPED: 3, TO_BE_UPLOADED: 4, UPLOAD_SUCCESS: 5, UPLOAD_FAILURE: 6 },
    UploadState: { WAITING: 0, RUNNING: 1, COMPLETED: 2, FAILED: 3, STOPPED: 4, PAUSED: 5 },
    FileState: { INITIAL_AFTER_DOWNLOAD: 0, UPLOADING: 1, STOPPED: 2, TO_BE_UPLOADED: 3, UPLOAD_SUCCESS: 4, UPLOAD_FAILURE: 5 },
    NotifyType: { NOTIFY_ADDED: 0, NOTIFY_MODIFIED: 1, NOTIFY_DELETED: 2, NOTIFY_RENAMED: 3 },
    DownloadFileType: { CONTENT: 0, THUMBNAIL: 1, LCD: 2 },
    OptimizeState: { RUNNING: 0, COMPLETED: 1, FAILED: 2, STOPPED: 3 },
  };
  for (const [name, values] of Object.entries(expected)) {
    assert.deepEqual({ ...cloudSync[name] }, values, name);
    assert.ok(Object.isFrozen(cloudSync[name]), `${name} is frozen`);
  }
});

test('the module is reachable by every documented name, as one object', () => {
  const kit = require('@kit.CoreFileKit');
  const pkg = require('ohfile');
  assert.equal(kit.cloudSync, cloudSync);
  assert.equal(kit.fileUri, fileUri);
  assert.equal(pkg.cloudSync, cloudSync);
  for (const name of ['FileSync', 'GallerySync', 'CloudFileCache', 'Download', 'getFileSyncState']) {
    assert.equal(typeof cloudSync[name], 'function', name);
  }
});

test('ESM code imports it through the register hook (default and kit forms)', () => {
  const dir = fs.mkdtempSync(path.join(repo, 'tests', 'node', '.tmp-'));
  try {
    const file = path.join(dir, 'app.mjs');
    fs.writeFileSync(file, `
import cloudSync from '@ohos.file.cloudSync';
import fileUri from '@ohos.file.fileuri';
import { cloudSync as kitSync, fileUri as kitUri } from '@kit.CoreFileKit';
console.log(JSON.stringify({ same: cloudSync === kitSync && fileUri === kitUri, completed: cloudSync.SyncState.COMPLETED, uri: fileUri.getUriFromPath('/data/storage/el2/cloud/a b.txt') }));
`);
    const r = spawnSync(process.execPath, ['--import', 'ohfile/register', file], { cwd: repo, encoding: 'utf8', timeout: 20000, env: { ...process.env, OHFILE_BUNDLE: 'com.example.esm' } });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { same: true, completed: 4, uri: 'file://com.example.esm/data/storage/el2/cloud/a%20b.txt' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fileUri.getUriFromPath names the calling app and percent-encodes the path', async () => {
  await withEnv({ OHFILE_BUNDLE: BUNDLE }, () => {
    assert.equal(fileUri.getUriFromPath('/data/storage/el2/cloud/1.txt'), `file://${BUNDLE}/data/storage/el2/cloud/1.txt`);
    assert.equal(fileUri.getUriFromPath('/data/storage/el2/cloud/a b/100%#?.txt'), `file://${BUNDLE}/data/storage/el2/cloud/a%20b/100%25%23%3F.txt`);
    assert.equal(fileUri.getUriFromPath('/data/storage/el2/cloud/été.txt'), `file://${BUNDLE}/data/storage/el2/cloud/%C3%A9t%C3%A9.txt`);
    const u = new fileUri.FileUri(fileUri.getUriFromPath('/data/storage/el2/cloud/dir/a b.txt'));
    assert.equal(u.path, '/data/storage/el2/cloud/dir/a b.txt');
    assert.equal(u.name, 'a b.txt');
    assert.equal(u.toString(), `file://${BUNDLE}/data/storage/el2/cloud/dir/a%20b.txt`);
    assert401(() => fileUri.getUriFromPath(), 'no path');
    assert401(() => fileUri.getUriFromPath(7), 'a number');
  });
  await withEnv({ OHFILE_BUNDLE: undefined }, () => assert401(() => fileUri.getUriFromPath('/data/storage/el2/cloud/1.txt'), 'no calling app'));
});

test('FileSync() is the calling app ($OHFILE_BUNDLE); a missing, empty or unknown bundle is 401', async () => {
  const { roots, cleanup } = cloudDevices(1);
  try {
    await withRoot(roots[0], async () => {
      await withEnv({ OHFILE_BUNDLE: undefined }, () => assert401(() => new cloudSync.FileSync(), 'FileSync() without $OHFILE_BUNDLE'));
      await withEnv({ OHFILE_BUNDLE: BUNDLE }, () => assert.ok(new cloudSync.FileSync()));
      await withEnv({ OHFILE_BUNDLE: BUNDLE }, () => assert.ok(new cloudSync.CloudFileCache()));
      await withEnv({ OHFILE_BUNDLE: undefined }, () => assert401(() => new cloudSync.CloudFileCache(), 'CloudFileCache() without $OHFILE_BUNDLE'));
      assert.ok(new cloudSync.FileSync(BUNDLE));
      assert401(() => new cloudSync.FileSync(''), 'empty bundle');
      assert401(() => new cloudSync.FileSync(42), 'a number');
      assert401(() => new cloudSync.FileSync('com.example.notinstalled'), 'unknown bundle');
      assert401(() => new cloudSync.FileSync('not a bundle!'), 'malformed bundle');
      assert401(() => new cloudSync.FileSync(BUNDLE, 1), 'two arguments');
      assert401(() => new cloudSync.GallerySync(1), 'GallerySync(1)');
      assert401(() => new cloudSync.Download('x'), "Download('x')");
      assert401(() => new cloudSync.CloudFileCache(''), "CloudFileCache('')");
    });
  } finally {
    cleanup();
  }
});

test('on/off/start/stop/getLastSyncTime check their arguments (401, thrown)', async () => {
  const { roots, cleanup } = cloudDevices(1);
  try {
    await withRoot(roots[0], () => {
      const fn = () => {};
      for (const s of [new cloudSync.FileSync(BUNDLE), new cloudSync.GallerySync()]) {
        assert401(() => s.on('', fn), "on('')");
        assert401(() => s.on(fn), 'on(fn)');
        assert401(() => s.on('progress'), "on('progress')");
        assert401(() => s.on('progress', 1), "on('progress', 1)");
        assert401(() => s.on('change', fn), "on('change')");
        assert401(() => s.off(''), "off('')");
        assert401(() => s.off(), 'off()');
        assert401(() => s.off('progress', 1), "off('progress', 1)");
        assert401(() => s.start(1), 'start(1)');
        assert401(() => s.start(fn, fn), 'start(fn, fn)');
        assert401(() => s.stop('x'), "stop('x')");
        s.on('progress', fn);
        s.off('progress', fn);
        s.off('progress');
      }
      const f = new cloudSync.FileSync(BUNDLE);
      assert401(() => f.getLastSyncTime(1), 'getLastSyncTime(1)');
      for (const d of [new cloudSync.CloudFileCache(BUNDLE), new cloudSync.Download()]) {
        assert401(() => d.on('batch', fn), "on('batch')");
        assert401(() => d.start(), 'start()');
        assert401(() => d.start(5), 'start(5)');
        assert401(() => d.start('file://media/x', 5), 'start(uri, 5)');
        assert401(() => d.stop(), 'stop()');
      }
      const c = new cloudSync.CloudFileCache(BUNDLE);
      assert401(() => c.stop(uriOf('a'), 'yes'), "stop(uri, 'yes')");
      assert401(() => c.cleanCache(), 'cleanCache()');
      assert401(() => c.cleanCache(1), 'cleanCache(1)');
      assert401(() => cloudSync.getFileSyncState(), 'getFileSyncState()');
      assert401(() => cloudSync.getFileSyncState(1), 'getFileSyncState(1)');
      assert401(() => cloudSync.getFileSyncState([1]), 'getFileSyncState([1])');
      assert401(() => cloudSync.getFileSyncState(uriOf('a'), fn), 'getFileSyncState(uri, fn)');
      assert401(() => cloudSync.getFileSyncState([uriOf('a')], 5), 'getFileSyncState(uris, 5)');
      assert401(() => cloudSync.getFileSyncState(Array.from({ length: 101 }, (_, i) => uriOf(`f${i}`))), '101 uris');
    });
  } finally {
    cleanup();
  }
});

test('a CloudFileCache reaches only its own app: another app\'s uri is 14000002', async () => {
  const { roots, cleanup } = cloudDevices(1);
  try {
    await withRoot(roots[0], async () => {
      const c = new cloudSync.CloudFileCache(BUNDLE);
      await assert.rejects(c.start('file://com.example.other/data/storage/el2/cloud/1.txt'), (e) => e.code === 14000002 && /^Invalid uri/.test(e.message));
      assert.throws(() => c.cleanCache('file://com.example.other/data/storage/el2/cloud/1.txt'), (e) => e.code === 14000002);
    });
  } finally {
    cleanup();
  }
});

test('listeners alone do not keep a script alive', () => {
  const { roots, cleanup } = cloudDevices(1);
  try {
    const script = `
const cloudSync = require('@ohos.file.cloudSync');
const fs = new cloudSync.FileSync();
fs.on('progress', (p) => console.log('sync', JSON.stringify(p)));
const g = new cloudSync.GallerySync();
g.on('progress', (p) => console.log('gallery', JSON.stringify(p)));
const c = new cloudSync.CloudFileCache();
c.on('progress', (p) => console.log('cache', JSON.stringify(p)));
const d = new cloudSync.Download();
d.on('progress', (p) => console.log('download', JSON.stringify(p)));
console.log('registered');
`;
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['-r', 'ohfile/register', '-e', script], {
      cwd: repo,
      encoding: 'utf8',
      timeout: 15000,
      env: { ...process.env, OHFILE_ROOT: roots[0], OHFILE_BUNDLE: BUNDLE },
    });
    const ms = Date.now() - t0;
    assert.equal(r.signal, null, `killed after ${ms} ms: the listeners kept it alive`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /registered/);
    assert.ok(ms < 5000, `took ${ms} ms`);
  } finally {
    cleanup();
  }
});
