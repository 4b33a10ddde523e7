'use strict';
// A device-clone client built only on the public @ohos.file.backup API, as a clone tool would
// write it: back up apps of one device into a folder (one sub-folder per bundle, one file per
// uri, plus the old device's capabilities.json), and restore apps from such a folder.
const fs = require('node:fs');
const path = require('node:path');
const backup = require('../backup');
const fileIo = require('../fs');

const CAPABILITIES = 'capabilities.json';

/** Runs `fn` with $OHFILE_ROOT set to `root` for the calls it makes synchronously. */
function onDevice(root, fn) {
  const old = process.env.OHFILE_ROOT;
  process.env.OHFILE_ROOT = root;
  try {
    return fn();
  } finally {
    if (old === undefined) delete process.env.OHFILE_ROOT;
    else process.env.OHFILE_ROOT = old;
  }
}

function readFd(fd) {
  const chunks = [];
  for (let offset = 0; ; ) {
    const buf = new ArrayBuffer(1 << 16);
    const n = fileIo.readSync(fd, buf, { offset });
    if (!n) break;
    chunks.push(Buffer.from(buf, 0, n));
    offset += n;
  }
  return Buffer.concat(chunks);
}

/** The capability JSON of the device at `root`. */
async function capabilities(root) {
  const { fd } = await onDevice(root, () => backup.getLocalCapabilities());
  try {
    return JSON.parse(readFd(fd).toString('utf8'));
  } finally {
    fileIo.closeSync(fd);
  }
}

/** Bundles of a capability file that can be backed up. */
function backupable(caps) {
  return caps.bundleInfos.filter((b) => b.allToBackup).map((b) => b.name);
}

function sessionError(what, err) {
  const e = new Error(`${what}: ${err.message} (${err.code})`);
  e.code = err.code;
  e.data = err.data;
  return e;
}

/**
 * Backs up `bundles` (default: all that allow it) of the device at `root` into `dir`.
 * `progress({bundle, uri, bytes})` is called for every file received. Resolves with
 * {bundles: {name: {ok, code?, files, bytes}}, capabilities}.
 */
async function backupToDir(root, dir, bundles, progress = () => {}) {
  const caps = await capabilities(root);
  const names = bundles && bundles.length ? bundles : backupable(caps);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, CAPABILITIES), JSON.stringify(caps, null, 2));
  const result = {};
  await new Promise((resolve, reject) => {
    const session = onDevice(root, () => new backup.SessionBackup({
      onFileReady: (err, file) => {
        if (err) {
          result[err.data] = { ...(result[err.data] || {}), ok: false, code: err.code };
          return;
        }
        try {
          const target = path.join(dir, file.bundleName);
          fs.mkdirSync(target, { recursive: true });
          // Copy straight from the service's fd (copy_file_range in the kernel), then close it.
          fs.copyFileSync(`/proc/self/fd/${file.fd}`, path.join(target, file.uri));
          const bytes = fileIo.statSync(file.fd).size;
          const r = (result[file.bundleName] ||= { ok: true, files: 0, bytes: 0 });
          r.files += 1;
          r.bytes += bytes;
          progress({ bundle: file.bundleName, uri: file.uri, bytes });
        } finally {
          fileIo.closeSync(file.fd);
        }
      },
      onBundleBegin: (err) => {
        if (err) result[err.data] = { ok: false, code: err.code, message: err.message, files: 0, bytes: 0 };
      },
      onBundleEnd: (err, name) => {
        if (err) result[err.data] = { ...(result[err.data] || {}), ok: false, code: err.code, message: err.message };
        else (result[name] ||= { ok: true, files: 0, bytes: 0 }).ok = true;
      },
      onAllBundlesEnd: () => session.release().then(resolve, reject),
      onBackupServiceDied: () => reject(new Error('the backup service died')),
      onResultReport: () => {},
      onProcess: () => {},
    }));
    onDevice(root, () => session.appendBundles(names)).catch((e) => session.release().finally(() => reject(sessionError('appendBundles', e))));
  });
  return { bundles: result, capabilities: caps };
}

/**
 * Restores `bundles` (default: every bundle folder in `dir`) from `dir` into the device at
 * `root`, using the old device's capabilities.json. Resolves with {bundles: {name: {ok, code?}}}.
 */
async function restoreFromDir(root, dir, bundles, progress = () => {}) {
  const names = bundles && bundles.length ? bundles : fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  const capsFd = fs.openSync(path.join(dir, CAPABILITIES), 'r');
  const result = {};
  try {
    await new Promise((resolve, reject) => {
      const pending = new Map();
      const session = onDevice(root, () => new backup.SessionRestore({
        onBundleBegin: (err, name) => {
          if (err) {
            result[err.data] = { ok: false, code: err.code, message: err.message };
            return;
          }
          const files = fs.readdirSync(path.join(dir, name));
          pending.set(name, files.length);
          if (!files.length) session.publishFile({ bundleName: name, uri: '' });
          for (const uri of files) session.getFileHandle({ bundleName: name, uri }).catch(reject);
        },
        onFileReady: (err, file) => {
          if (err) {
            result[err.data] = { ok: false, code: err.code, message: err.message };
            return;
          }
          try {
            const src = path.join(dir, file.bundleName, file.uri);
            fs.copyFileSync(src, `/proc/self/fd/${file.fd}`);
            progress({ bundle: file.bundleName, uri: file.uri, bytes: fs.statSync(src).size });
          } finally {
            fileIo.closeSync(file.fd);
            fileIo.closeSync(file.manifestFd);
          }
          const left = pending.get(file.bundleName) - 1;
          pending.set(file.bundleName, left);
          if (left === 0) session.publishFile({ bundleName: file.bundleName, uri: '' }).catch(reject);
        },
        onBundleEnd: (err, name) => {
          if (err) result[err.data] = { ok: false, code: err.code, message: err.message };
          else result[name] = { ok: true };
        },
        onAllBundlesEnd: () => session.release().then(resolve, reject),
        onBackupServiceDied: () => reject(new Error('the backup service died')),
        onResultReport: () => {},
        onProcess: () => {},
      }));
      onDevice(root, () => session.appendBundles(capsFd, names)).catch((e) => session.release().finally(() => reject(sessionError('appendBundles', e))));
    });
  } finally {
    fs.closeSync(capsFd);
  }
  return { bundles: result };
}

/** Clones `bundles` from device `from` to device `to` through a temp folder. */
async function clone(from, to, bundles, progress, tmpDir) {
  const dir = fs.mkdtempSync(path.join(tmpDir || require('node:os').tmpdir(), 'ohfile-clone-'));
  try {
    const b = await backupToDir(from, dir, bundles, progress);
    const names = Object.entries(b.bundles).filter(([, r]) => r.ok).map(([n]) => n);
    const r = names.length ? await restoreFromDir(to, dir, names, progress) : { bundles: {} };
    return { backup: b.bundles, restore: r.bundles, capabilities: b.capabilities };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { capabilities, backupToDir, restoreFromDir, clone, CAPABILITIES };
