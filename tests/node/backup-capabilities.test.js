'use strict';
// backup.getLocalCapabilities through '@ohos.file.backup' (loaded by the register hook).
require('ohfile/register');
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const backup = require('@ohos.file.backup');
const fileIo = require('@ohos.file.fs');
const { makeDevice, withRoot, readAll, openFds, removeTree } = require('./helpers');

const SAMPLE = {
  device: { deviceType: 'phone', systemFullName: 'OpenHarmony-5.0.0.0' },
  apps: {
    'com.example.notes': {
      bundle: { versionCode: 1000000, versionName: '1.0.0', extension: { name: 'BackupExtensionAbility', module: 'ext.mjs' } },
      config: { allowToBackupRestore: true, excludes: ['*.tmp'], restoreDeps: 'com.example.game', extraInfo: { a: 1 } },
      files: {
        'data/storage/el2/base/files/note.txt': 'hello world', // 11 bytes
        'data/storage/el2/base/files/scratch.tmp': 'excluded',
        'data/storage/el1/database/notes.db': '12345', // 5 bytes
        'data/storage/el2/base/cache/c.bin': 'not included',
      },
    },
    'com.example.game': { bundle: { versionCode: 7, versionName: '0.7' } },
  },
};

let root;
test.before(() => {
  root = makeDevice(SAMPLE);
});
test.after(() => removeTree(root));

function checkCapabilities(caps) {
  assert.equal(caps.deviceType, 'phone');
  assert.equal(caps.systemFullName, 'OpenHarmony-5.0.0.0');
  assert.equal(typeof caps.backupVersion, 'string');
  assert.deepEqual(caps.bundleInfos.map((b) => b.name), ['com.example.game', 'com.example.notes']);
  const [game, notes] = caps.bundleInfos;
  assert.deepEqual(notes, {
    name: 'com.example.notes',
    appIndex: 0,
    versionCode: 1000000,
    versionName: '1.0.0',
    spaceOccupied: 16,
    allToBackup: true,
    fullBackupOnly: false,
    requireCompatibility: false,
    needToInstall: false,
    extensionName: 'BackupExtensionAbility',
    restoreDeps: 'com.example.game',
    supportScene: '',
    extraInfo: { a: 1 },
  });
  assert.equal(game.allToBackup, false);
  assert.equal(game.spaceOccupied, 0);
  assert.equal(game.versionCode, 7);
  assert.equal(game.extensionName, '');
}

test('Promise form: an fd at offset 0 with the capability JSON, closable once', async () => {
  await withRoot(root, async () => {
    const fileData = await backup.getLocalCapabilities();
    assert.deepEqual(Object.keys(fileData), ['fd']);
    assert.ok(Number.isInteger(fileData.fd) && fileData.fd > 2);
    const st = fileIo.fstatSync(fileData.fd);
    assert.ok(st.isFile());
    assert.ok(st.size > 100);
    const buf = new ArrayBuffer(8);
    assert.equal(fileIo.readSync(fileData.fd, buf), 8, 'reads from the current position, which is 0');
    assert.equal(Buffer.from(buf).toString(), '{\n  "bac');
    checkCapabilities(JSON.parse(readAll(fileIo, fileData.fd)));
    fileIo.closeSync(fileData.fd);
    assert.throws(() => fileIo.closeSync(fileData.fd), (e) => e.code === 13900008);
  });
});

test('callback form: err undefined and a FileData', async () => {
  await withRoot(root, async () => {
    const result = await new Promise((resolve) => {
      const ret = backup.getLocalCapabilities((err, fileData) => resolve({ err, fileData }));
      assert.equal(ret, undefined);
    });
    assert.equal(result.err, undefined);
    checkCapabilities(JSON.parse(readAll(fileIo, result.fileData.fd)));
    fileIo.closeSync(result.fileData.fd);
  });
});

test('the temp file is anonymous: nothing named is left in the device state', async () => {
  await withRoot(root, async () => {
    const { fd } = await backup.getLocalCapabilities();
    fileIo.closeSync(fd);
    assert.deepEqual(fs.readdirSync(path.join(root, 'state', 'tmp')), []);
  });
});

test('incremental form adds increSpaceOccupied for the listed bundles', async () => {
  await withRoot(root, async () => {
    const future = Math.floor(Date.now() / 1000) + 3600;
    const { fd } = await backup.getLocalCapabilities([
      { bundleName: 'com.example.notes', lastIncrementalTime: 0 },
      { bundleName: 'com.example.notes2', lastIncrementalTime: 0 },
    ]);
    const caps = JSON.parse(readAll(fileIo, fd));
    fileIo.closeSync(fd);
    assert.deepEqual(caps.bundleInfos.map((b) => [b.name, b.spaceOccupied, b.increSpaceOccupied]), [['com.example.notes', 16, 16]]);
    const again = await backup.getLocalCapabilities([{ bundleName: 'com.example.notes', lastIncrementalTime: future }]);
    const caps2 = JSON.parse(readAll(fileIo, again.fd));
    fileIo.closeSync(again.fd);
    assert.equal(caps2.bundleInfos[0].increSpaceOccupied, 0);
  });
});

test('bad arguments throw a BusinessError 401 synchronously', () => {
  for (const bad of [[{ bundleName: 1, lastIncrementalTime: 0 }], [{ bundleName: 'a.b', lastIncrementalTime: 1.5 }], [null], 'x', 5]) {
    assert.throws(
      () => backup.getLocalCapabilities(bad),
      (e) => e instanceof Error && e.code === 401 && typeof e.message === 'string' && e.message.startsWith('Parameter error'),
    );
  }
});

test('a device root that is a file: rejection and callback error are numeric-coded BusinessErrors', async () => {
  const file = path.join(root, 'device.json');
  await withRoot(file, async () => {
    await assert.rejects(backup.getLocalCapabilities(), (e) => {
      assert.ok(e instanceof Error);
      assert.equal(typeof e.code, 'number');
      assert.equal(e.code, 13900018);
      assert.match(e.message, /^Not a directory: device root .*device\.json is not a directory$/);
      assert.equal(JSON.stringify(e), '{"code":13900018}');
      return true;
    });
    const err = await new Promise((resolve) => backup.getLocalCapabilities((e, d) => resolve([e, d])));
    assert.equal(err[0].code, 13900018);
    assert.equal(err[1], undefined);
  });
});

test('a malformed bundle.json or backup_config.json names the file', async () => {
  const bad = makeDevice({ apps: { 'com.example.bad': { bundle: '{"versionCode": 1', config: {} } } });
  try {
    await withRoot(bad, async () => {
      await assert.rejects(backup.getLocalCapabilities(), (e) => e.code === 13900020 && e.message.includes('com.example.bad/bundle.json'));
      fs.writeFileSync(path.join(bad, 'apps/com.example.bad/bundle.json'), '{"versionCode": 1, "versionName": "1"}');
      fs.writeFileSync(path.join(bad, 'apps/com.example.bad/backup_config.json'), '{"includes": [');
      await assert.rejects(backup.getLocalCapabilities(), (e) => e.code === 13900020 && e.message.includes('backup_config.json is not valid JSON'));
    });
  } finally {
    removeTree(bad);
  }
});

test('a missing explicit root is 13900002 and names it', async () => {
  await withRoot(path.join(root, 'no-such-device'), async () => {
    await assert.rejects(backup.getLocalCapabilities(), (e) => e.code === 13900002 && e.message.includes('no-such-device'));
  });
});

test('200 calls leak no file descriptor', async () => {
  await withRoot(root, async () => {
    const before = openFds();
    for (let i = 0; i < 200; i++) {
      const { fd } = await backup.getLocalCapabilities();
      fileIo.closeSync(fd);
    }
    assert.equal(openFds(), before);
  });
});
