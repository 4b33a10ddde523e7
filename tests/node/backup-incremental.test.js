'use strict';
// IncrementalBackupSession, the newer session methods, and chains through the clone client and CLI.
require('ohfile/register');
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const backup = require('@ohos.file.backup');
const tools = require('../../node-binding/lib/tools/clone.js');
const { makeDevice, withRoot, removeTree, treeOf, putFile, recorder } = require('./helpers');

const APP = { bundle: { versionCode: 1000000, versionName: '1.0.0' }, config: { allowToBackupRestore: true } };
const NAME = 'com.example.inc';
const repo = path.resolve(__dirname, '../..');

function sandbox(root) {
  return path.join(root, 'apps', NAME, 'sandbox');
}

function files(root) {
  return path.join(sandbox(root), 'data/storage/el2/base/files');
}

test('incremental files carry manifests; a second run with no change sends only manage.json', async () => {
  const root = makeDevice({ apps: { [NAME]: APP } });
  for (let i = 0; i < 20; i++) putFile(root, NAME, `data/storage/el2/base/files/f${i}.txt`, `file ${i}`, 0o644, 1_600_000_000 + i);
  try {
    await withRoot(root, async () => {
      const run = async (manifestPath, lastTime) => {
        const seen = [];
        const rec = recorder((file) => {
          assert.equal(typeof file.manifestFd, 'number');
          const text = fs.readFileSync(`/proc/self/fd/${file.manifestFd}`, 'utf8');
          seen.push({ uri: file.uri, manifest: text });
          fs.closeSync(file.fd);
          fs.closeSync(file.manifestFd);
        });
        const s = new backup.IncrementalBackupSession(rec.cb);
        const fd = fs.openSync(manifestPath, 'a+');
        await s.appendBundles([{ bundleName: NAME, lastIncrementalTime: lastTime, manifestFd: fd }]);
        fs.closeSync(fd);
        await rec.done;
        await s.release();
        return seen;
      };
      const m0 = path.join(root, 'none.rp');
      const first = await run(m0, 0);
      assert.deepEqual(first.map((f) => f.uri.replace(/^\d+_/, '')), ['part.1.tar', 'manage.json']);
      const [item, all] = first.map((f) => f.manifest.split('\n'));
      assert.equal(item[0], 'version=1.0&attrNum=8');
      assert.equal(item[1], 'path;mode;dir;size;mtime;hash;isIncremental;encodeFlag');
      assert.equal(item.filter((l) => l.startsWith('/data/storage/el2/base/files/f')).length, 20);
      assert.match(all[2], /^\/data\/storage\/el2\/base\/files\/f0\.txt;33188;0;6;1600000000;[0-9A-F]{64};1;0$/);
      const m1 = path.join(root, 'm1.rp');
      fs.writeFileSync(m1, first[1].manifest);
      const second = await run(m1, Math.floor(Date.now() / 1000));
      assert.deepEqual(second.map((f) => f.uri), ['manage.json']);
      putFile(root, NAME, 'data/storage/el2/base/files/f3.txt', 'changed!', 0o644, 1_700_000_000);
      const third = await run(m1, Math.floor(Date.now() / 1000));
      assert.equal(third.length, 2);
      assert.deepEqual(third[0].manifest.split('\n').filter((l) => l.startsWith('/')).map((l) => l.split(';')[0]), ['/data/storage/el2/base/files/f3.txt']);
    });
  } finally {
    removeTree(root);
  }
});

test('bad manifests and bad IncrementalBackupData are coded errors, never a silent full backup', async () => {
  const root = makeDevice({ apps: { [NAME]: APP } });
  putFile(root, NAME, 'data/storage/el2/base/files/a.txt', 'a');
  try {
    await withRoot(root, async () => {
      const rec = recorder();
      const s = new backup.IncrementalBackupSession(rec.cb);
      for (const bad of [[{ lastIncrementalTime: 1, manifestFd: 3 }], [{ bundleName: NAME, lastIncrementalTime: '1', manifestFd: 3 }], [{ bundleName: NAME, lastIncrementalTime: 1 }], [{ bundleName: NAME, lastIncrementalTime: 1.5, manifestFd: 3 }], 'x']) {
        assert.throws(() => s.appendBundles(bad), (e) => e.code === 13900020, JSON.stringify(bad));
      }
      await assert.rejects(s.appendBundles([{ bundleName: NAME, lastIncrementalTime: 1, manifestFd: 987654 }]), (e) => e.code === 13900020);
      const garbage = path.join(root, 'garbage.rp');
      fs.writeFileSync(garbage, 'definitely not a manifest\n');
      const fd = fs.openSync(garbage, 'r');
      await assert.rejects(s.appendBundles([{ bundleName: NAME, lastIncrementalTime: 1, manifestFd: fd }]), (e) => e.code === 13900020 && /manifest/.test(e.message));
      fs.closeSync(fd);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(rec.log, [], 'no bundle event: nothing was backed up');
      await s.release();
    });
  } finally {
    removeTree(root);
  }
});

test('a chain of incremental backups restores to the live tree (clone client)', async () => {
  const a = makeDevice({ apps: { [NAME]: APP } });
  const b = makeDevice({ apps: { [NAME]: APP } });
  const chain = fs.mkdtempSync(path.join(os.tmpdir(), 'ohfile-chain-'));
  try {
    putFile(a, NAME, 'data/storage/el2/base/files/keep.txt', 'keep', 0o640, 1_600_000_000);
    putFile(a, NAME, 'data/storage/el2/base/files/old/gone.txt', 'gone', 0o600, 1_600_000_000);
    putFile(a, NAME, 'data/storage/el2/base/files/big.bin', Buffer.alloc(3 << 20, 1), 0o600, 1_600_000_000);
    await tools.backupIncremental(a, chain, [NAME]);
    fs.rmSync(path.join(files(a), 'old'), { recursive: true });
    putFile(a, NAME, 'data/storage/el2/base/files/new/n.txt', 'new', 0o644, 1_600_000_100);
    putFile(a, NAME, 'data/storage/el2/base/files/big.bin', Buffer.alloc(3 << 20, 2), 0o600, 1_600_000_200);
    fs.mkdirSync(path.join(files(a), 'empty'));
    await tools.backupIncremental(a, chain, [NAME]);
    fs.chmodSync(path.join(files(a), 'keep.txt'), 0o600);
    const r3 = await tools.backupIncremental(a, chain, [NAME]);
    assert.equal(r3.run, '0003');
    const r = await tools.restoreChain(b, chain, []);
    assert.ok(r.bundles[NAME].ok, JSON.stringify(r));
    assert.deepEqual(treeOf(sandbox(b)), treeOf(sandbox(a)));
    assert.ok(!fs.existsSync(path.join(files(b), 'old')), 'the deleted folder is gone on the target too');
  } finally {
    removeTree(a);
    removeTree(b);
    removeTree(chain);
  }
});

test('ohfile backup --incremental and ohfile restore replay a chain', () => {
  const a = makeDevice({ apps: { [NAME]: APP } });
  const b = makeDevice({ apps: { [NAME]: APP } });
  const chain = fs.mkdtempSync(path.join(os.tmpdir(), 'ohfile-cli-chain-'));
  const cli = (...args) => spawnSync(process.execPath, [path.join(repo, 'scripts/cli.mjs'), '--quiet', ...args], { encoding: 'utf8' });
  try {
    putFile(a, NAME, 'data/storage/el2/base/files/a.txt', 'one');
    let r = cli('backup', '--incremental', '--root', a, '--to', chain);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    fs.unlinkSync(path.join(files(a), 'a.txt'));
    putFile(a, NAME, 'data/storage/el2/base/files/b.txt', 'two');
    r = cli('backup', '--incremental', '--root', a, '--to', chain);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /incremental run 0002/);
    r = cli('restore', '--root', b, '--from', chain);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.deepEqual(treeOf(sandbox(b)), treeOf(sandbox(a)));
  } finally {
    removeTree(a);
    removeTree(b);
    removeTree(chain);
  }
});

test('getBackupVersion, session capabilities, cancel, cleanBundleTempDir, getCompatibilityInfo', async () => {
  const root = makeDevice({ apps: { [NAME]: APP, 'com.example.closed': { ...APP, config: { allowToBackupRestore: false } } } });
  try {
    assert.match(backup.getBackupVersion(), /^\{"backupVersion" : "\d+"\}$/);
    assert.ok(JSON.parse(backup.getBackupVersion()).backupVersion);
    await withRoot(root, async () => {
      for (const Kind of [backup.SessionBackup, backup.SessionRestore, backup.IncrementalBackupSession]) {
        const s = new Kind({});
        const { fd } = await s.getLocalCapabilities();
        const caps = JSON.parse(fs.readFileSync(`/proc/self/fd/${fd}`, 'utf8'));
        fs.closeSync(fd);
        assert.equal(caps.backupVersion, undefined);
        assert.deepEqual(caps.bundleInfos.map((x) => x.name), [NAME]);
        assert.equal(s.cancel('com.example.nope'), 13500012);
        assert.throws(() => s.cancel(5), (e) => e.code === 401);
        const temp = path.join(sandbox(root), 'data/storage/el2/base/.backup/restore');
        fs.mkdirSync(temp, { recursive: true });
        assert.equal(await s.cleanBundleTempDir(NAME), true);
        assert.ok(!fs.existsSync(temp));
        assert.equal(await s.cleanBundleTempDir('com.example.nope'), false);
        assert.equal(await s.getCompatibilityInfo(NAME, 'x'), '', 'no extension: empty');
        await s.release();
        await assert.rejects(s.getLocalCapabilities(), (e) => e.code === 13900020);
      }
    });
  } finally {
    removeTree(root);
  }
});

test('getBackupDataSize reports through onBackupSizeReport', async () => {
  const root = makeDevice({ apps: { [NAME]: APP } });
  putFile(root, NAME, 'data/storage/el2/base/files/a.bin', Buffer.alloc(1000), 0o600, 1_600_000_000);
  putFile(root, NAME, 'data/storage/el2/base/files/b.bin', Buffer.alloc(234), 0o600, 1_700_000_100);
  try {
    await withRoot(root, async () => {
      let done;
      const final = new Promise((r) => (done = r));
      const reports = [];
      const s = new backup.IncrementalBackupSession({
        onBackupSizeReport: (info) => {
          reports.push(info);
          if (JSON.parse(info).scanning === '') done(JSON.parse(info));
        },
      });
      await s.getBackupDataSize(true, [{ bundleName: NAME, lastIncrementalTime: 1_700_000_000 }, { bundleName: 'com.example.nope', lastIncrementalTime: 0 }]);
      const keepAlive = setTimeout(() => {}, 10000);
      const r = await final;
      clearTimeout(keepAlive);
      assert.deepEqual(r.scaned, [{ bundleName: NAME, dataSize: 1234, incDataSize: 234 }, { bundleName: 'com.example.nope', dataSize: -1, incDataSize: -1 }]);
      assert.throws(() => s.getBackupDataSize('yes', []), (e) => e.code === 401);
      await s.release();
    });
  } finally {
    removeTree(root);
  }
});
