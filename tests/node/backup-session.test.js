'use strict';
// SessionBackup / SessionRestore through '@ohos.file.backup' and the clone client.
require('ohfile/register');
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const backup = require('@ohos.file.backup');
const tools = require('../../node-binding/lib/tools/clone.js');
const { makeDevice, withRoot, openFds, removeTree, treeOf, putFile, recorder } = require('./helpers');

const APP = { bundle: { versionCode: 1000000, versionName: '1.0.0' }, config: { allowToBackupRestore: true } };

function sampleDevice(names, extra = {}) {
  const apps = {};
  for (const n of names) apps[n] = { ...APP, ...(extra[n] || {}) };
  const root = makeDevice({ apps });
  for (const n of names) {
    if (extra[n] && extra[n].empty) continue;
    putFile(root, n, 'data/storage/el2/base/files/a.txt', `alpha of ${n}`, 0o640, 1_600_000_000);
    putFile(root, n, 'data/storage/el2/base/files/deep/b.bin', Buffer.alloc(7000, 3), 0o600, 1_600_000_100);
    putFile(root, n, 'data/storage/el1/database/big.db', Buffer.alloc(3 * 1024 * 1024 + 5, 9), 0o600, 1_600_000_200);
    fs.mkdirSync(path.join(root, 'apps', n, 'sandbox/data/storage/el2/base/files/empty'), { recursive: true });
  }
  return root;
}

function emptyTarget(names) {
  const apps = {};
  for (const n of names) apps[n] = APP;
  return makeDevice({ apps });
}

function sandbox(root, app) {
  return path.join(root, 'apps', app, 'sandbox');
}

test('a clone round trip equals the source byte for byte, with modes, mtimes and empty dirs', async () => {
  const a = sampleDevice(['com.example.notes', 'com.example.photos']);
  const b = emptyTarget(['com.example.notes', 'com.example.photos']);
  try {
    const r = await tools.clone(a, b, []);
    assert.deepEqual(Object.values(r.backup).map((x) => x.ok), [true, true]);
    assert.deepEqual(Object.values(r.restore).map((x) => x.ok), [true, true]);
    for (const app of ['com.example.notes', 'com.example.photos']) {
      const src = treeOf(sandbox(a, app));
      assert.ok(src['data/storage/el2/base/files/empty'], 'the source has its empty dir');
      assert.deepEqual(treeOf(sandbox(b, app)), src);
    }
  } finally {
    removeTree(a);
    removeTree(b);
  }
});

for (const n of [1, 3]) {
  test(`callback order with ${n} bundle(s): begin, files, manage.json last, end, then all`, async () => {
    const names = Array.from({ length: n }, (_, i) => `com.example.app${i}`);
    const root = sampleDevice(names);
    try {
      await withRoot(root, async () => {
        const rec = recorder();
        const s = new backup.SessionBackup(rec.cb);
        assert.equal(await s.appendBundles(names), undefined);
        const log = await rec.done;
        await s.release();
        assert.equal(log.at(-1), 'all');
        assert.equal(log.filter((l) => l === 'all').length, 1);
        for (const name of names) {
          const begin = log.indexOf(`begin:${name}`);
          const manage = log.indexOf(`file:${name}:manage.json`);
          const end = log.indexOf(`end:${name}`);
          assert.ok(begin >= 0 && begin < manage && manage < end, log.join('\n'));
          const files = log.map((l, i) => [l, i]).filter(([l]) => l.startsWith(`file:${name}:`));
          assert.deepEqual(files.at(-1)[0], `file:${name}:manage.json`);
          assert.ok(files.every(([, i]) => i > begin && i < end));
          assert.ok(files.some(([l]) => /part\.1\.tar$/.test(l)) && files.some(([l]) => /:[0-9a-f]{16}\.db$/.test(l)), log.join('\n'));
        }
      });
    } finally {
      removeTree(root);
    }
  });
}

test('unknown and not-allowed bundles: onBundleBegin BusinessErrors carrying the bundle as data', async () => {
  const root = sampleDevice(['com.example.open', 'com.example.closed'], { 'com.example.closed': { config: { allowToBackupRestore: false } } });
  try {
    await withRoot(root, async () => {
      const rec = recorder();
      const s = new backup.SessionBackup(rec.cb);
      await new Promise((resolve, reject) => s.appendBundles(['com.example.nope', 'com.example.closed', 'com.example.open'], (err) => (err ? reject(err) : resolve())));
      const log = await rec.done;
      await s.release();
      assert.ok(log.includes('begin-err:13500005:com.example.nope'), log.join('\n'));
      assert.ok(log.includes('begin-err:13500001:com.example.closed'), log.join('\n'));
      assert.ok(log.includes('end:com.example.open'));
      for (const e of rec.errors) {
        assert.ok(e instanceof Error);
        assert.equal(typeof e.code, 'number');
        assert.equal(typeof e.message, 'string');
      }
    });
  } finally {
    removeTree(root);
  }
});

test('a second session, from another process, throws 13500013 with the Session Conflict JSON', async () => {
  const root = makeDevice({});
  const child = spawn(process.execPath, ['-e', `
    const { backup } = require('ohfile');
    const s = new backup.SessionBackup({});
    console.log('holding');
    setTimeout(() => {}, 30000);`], { cwd: path.resolve(__dirname, '../..'), env: { ...process.env, OHFILE_ROOT: root }, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise((resolve) => child.stdout.once('data', resolve));
    await withRoot(root, async () => {
      assert.throws(() => new backup.SessionRestore({}), (e) => {
        assert.equal(e.code, 13500013);
        const info = JSON.parse(e.message.slice(e.message.indexOf('{')));
        assert.equal(info.sessionInfo.error, 'Session Conflict');
        assert.equal(info.sessionInfo.scenario, 'BACKUP');
        return true;
      });
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const s = new backup.SessionRestore({}); // the dead holder's lock is gone with it
      await s.release();
    });
  } finally {
    child.kill('SIGKILL');
    removeTree(root);
  }
});

test('calls after release, and restore calls with bad arguments, fail with their codes', async () => {
  const root = sampleDevice(['com.example.notes']);
  try {
    await withRoot(root, async () => {
      const s = new backup.SessionRestore({});
      assert.throws(() => s.appendBundles('3', ['a.b']), (e) => e.code === 13900020);
      assert.throws(() => s.getFileHandle({ bundleName: 'a.b' }), (e) => e.code === 13900020);
      await assert.rejects(s.appendBundles(987654, ['com.example.notes']), (e) => e.code === 13900020 && /fd is invalid/.test(e.message));
      await assert.rejects(s.getFileHandle({ bundleName: 'com.example.notes', uri: '../etc/passwd' }), (e) => e.code === 13900020);
      await assert.rejects(s.publishFile({ bundleName: 'com.example.notes', uri: 'x' }), (e) => e.code === 13900001);
      await s.release();
      await assert.rejects(s.release(), (e) => e.code === 13900020);
      await assert.rejects(s.getFileHandle({ bundleName: 'com.example.notes', uri: 'a' }), (e) => e.code === 13900020);
      const b = new backup.SessionBackup({});
      await b.release();
      await assert.rejects(b.appendBundles(['com.example.notes']), (e) => e.code === 13900020);
      const err = await new Promise((resolve) => b.appendBundles(['com.example.notes'], resolve));
      assert.equal(err.code, 13900020);
    });
  } finally {
    removeTree(root);
  }
});

test('a malformed capability file: every bundle gets onBundleBegin(13500005) and appendBundles rejects 13900020', async () => {
  const root = emptyTarget(['com.example.notes']);
  const capsPath = path.join(root, 'bad-caps.json');
  fs.writeFileSync(capsPath, '{"bundleInfos":[{"name":"com.example.notes","versionCode":1}]}');
  const fd = fs.openSync(capsPath, 'r');
  try {
    await withRoot(root, async () => {
      const rec = recorder();
      const s = new backup.SessionRestore(rec.cb);
      await assert.rejects(s.appendBundles(fd, ['com.example.notes', 'com.example.other']), (e) => e.code === 13900020);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(rec.log, ['begin-err:13500005:com.example.notes', 'begin-err:13500005:com.example.other']);
      await s.release();
    });
  } finally {
    fs.closeSync(fd);
    removeTree(root);
  }
});

test('updateTimer, updateSendRate and getBackupInfo argument rules', async () => {
  for (const bad of [[], ['a.b'], ['a.b', 1.5], [1, 100], ['a.b', -1], ['a.b', 14400001]]) {
    assert.throws(() => backup.updateTimer(...bad), (e) => e.code === 401, JSON.stringify(bad));
  }
  for (const bad of [['a.b', -1], ['a.b', 2.5], ['a.b']]) {
    assert.throws(() => backup.updateSendRate(...bad), (e) => e.code === 401, JSON.stringify(bad));
  }
  assert.equal(backup.updateTimer('com.example.none', 0), false);
  assert.equal(backup.updateTimer('com.example.none', 14400000), false);
  assert.equal(backup.updateSendRate('com.example.none', 99999), false);
  assert.throws(() => backup.getBackupInfo(5), (e) => e.code === 13900020);
  const root = sampleDevice(['com.example.notes']);
  try {
    await withRoot(root, () => assert.equal(backup.getBackupInfo('com.example.notes'), undefined, 'no extension: undefined'));
    await withRoot(root, () => assert.equal(backup.getBackupInfo('com.example.unknown'), undefined));
  } finally {
    removeTree(root);
  }
});

test('200 sessions in a row leak no file descriptor', async () => {
  const root = sampleDevice(['com.example.notes'], { 'com.example.notes': { empty: true } });
  try {
    await withRoot(root, async () => {
      const s0 = new backup.SessionBackup({});
      await s0.release();
      const before = openFds();
      for (let i = 0; i < 200; i++) {
        const s = i % 2 ? new backup.SessionRestore({}) : new backup.SessionBackup({});
        await s.release();
      }
      const rec = recorder();
      const s = new backup.SessionBackup(rec.cb);
      await s.appendBundles(['com.example.notes']);
      await rec.done;
      await s.release();
      assert.equal(openFds(), before);
    });
  } finally {
    removeTree(root);
  }
});

test('a script with a session exits by itself once its bundles are done', () => {
  const root = sampleDevice(['com.example.notes']);
  try {
    const r = spawnSync(process.execPath, ['-e', `
      const { backup } = require('ohfile');
      const s = new backup.SessionBackup({
        onFileReady: (e, f) => require('fs').closeSync(f.fd),
        onAllBundlesEnd: () => console.log('all done'),
      });
      s.appendBundles(['com.example.notes']);`], { cwd: path.resolve(__dirname, '../..'), env: { ...process.env, OHFILE_ROOT: root }, encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'all done', 'the process stayed alive until the end, then exited');
  } finally {
    removeTree(root);
  }
});

test('killing the client mid-restore leaves every file old or new, never partial', async () => {
  const names = ['com.example.big'];
  const a = makeDevice({ apps: { 'com.example.big': APP } });
  const b = makeDevice({ apps: { 'com.example.big': APP } });
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'ohfile-kill-'));
  const versions = {};
  for (let i = 0; i < 300; i++) {
    const rel = `data/storage/el2/base/files/f${i}.txt`;
    putFile(a, 'com.example.big', rel, `new-${i}-`.repeat(200));
    putFile(b, 'com.example.big', rel, `old-${i}-`.repeat(150));
    versions[rel] = [`new-${i}-`.repeat(200), `old-${i}-`.repeat(150)];
  }
  for (let i = 0; i < 4; i++) {
    const rel = `data/storage/el2/base/files/big${i}.bin`;
    putFile(a, 'com.example.big', rel, Buffer.alloc(8 << 20, 65 + i));
    putFile(b, 'com.example.big', rel, Buffer.alloc(8 << 20, 97 + i));
    versions[rel] = [Buffer.alloc(8 << 20, 65 + i).toString(), Buffer.alloc(8 << 20, 97 + i).toString()];
  }
  try {
    const r = await tools.backupToDir(a, folder, names);
    assert.ok(r.bundles['com.example.big'].ok);
    let killedMidway = 0;
    for (const delay of [0, 40, 150, 400]) {
      // The child reports each file it hands over; the kill lands `delay` ms after the first one,
      // i.e. while files are being written or the bundle is being unpacked.
      const child = spawn(process.execPath, ['-e', `
        const tools = require('./node-binding/lib/tools/clone.js');
        tools.restoreFromDir(${JSON.stringify(b)}, ${JSON.stringify(folder)}, ['com.example.big'], () => console.log('file'))
          .then(() => console.log('finished'));`], { cwd: path.resolve(__dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await new Promise((resolve) => child.stdout.once('data', resolve));
      await new Promise((resolve) => setTimeout(resolve, delay));
      child.kill('SIGKILL');
      await exited;
      if (!out.includes('finished')) killedMidway += 1;
      for (const [rel, [nu, old]] of Object.entries(versions)) {
        const now = fs.readFileSync(path.join(sandbox(b, 'com.example.big'), rel), 'utf8');
        assert.ok(now === nu || now === old, `${rel} is partial after a kill ${delay} ms into the restore`);
      }
    }
    assert.ok(killedMidway >= 2, `only ${killedMidway} kills landed before the restore finished`);
    // And a restore that is let finish brings everything to the new version.
    await tools.restoreFromDir(b, folder, names);
    for (const [rel, [nu]] of Object.entries(versions)) assert.equal(fs.readFileSync(path.join(sandbox(b, 'com.example.big'), rel), 'utf8'), nu);
  } finally {
    removeTree(a);
    removeTree(b);
    removeTree(folder);
  }
});
