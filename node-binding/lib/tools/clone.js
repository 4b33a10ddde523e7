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
async function backupToDir(root, dir, bundles, progress = () => {}, options = {}) {
  // options.capabilities: the device's capability JSON when the caller already has it. When the
  // bundles are named, the capability walk runs alongside the backup instead of before it.
  const capsReady = options.capabilities ? Promise.resolve(options.capabilities) : capabilities(root);
  const names = bundles && bundles.length ? bundles : backupable(await capsReady);
  const incremental = options.incremental;
  fs.mkdirSync(dir, { recursive: true });
  const result = {};
  await new Promise((resolve, reject) => {
    const callbacks = {
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
          // An incremental item's manifest travels beside it as <uri>.rp.
          if (Number.isInteger(file.manifestFd) && file.manifestFd >= 0) {
            fs.copyFileSync(`/proc/self/fd/${file.manifestFd}`, path.join(target, `${file.uri}.rp`));
          }
          const bytes = fileIo.statSync(file.fd).size;
          const r = (result[file.bundleName] ||= { ok: true, files: 0, bytes: 0 });
          r.files += 1;
          r.bytes += bytes;
          progress({ bundle: file.bundleName, uri: file.uri, bytes });
        } finally {
          fileIo.closeSync(file.fd);
          if (Number.isInteger(file.manifestFd) && file.manifestFd >= 0) fileIo.closeSync(file.manifestFd);
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
    };
    const session = onDevice(root, () => (incremental ? new backup.IncrementalBackupSession(callbacks) : new backup.SessionBackup(callbacks)));
    const appended = incremental ? appendIncremental(session, names, incremental) : session.appendBundles(names);
    appended.catch((e) => session.release().finally(() => reject(sessionError('appendBundles', e))));
  });
  const caps = await capsReady;
  fs.writeFileSync(path.join(dir, CAPABILITIES), JSON.stringify(caps, null, 2));
  return { bundles: result, capabilities: caps };
}

/**
 * Appends bundles to an IncrementalBackupSession: each with the manifest of its previous backup
 * (`incremental.previous[name]`, a file path; none → an empty manifest, i.e. a first, full run)
 * and `incremental.lastTime[name]` (Unix seconds).
 */
async function appendIncremental(session, names, incremental) {
  const fds = [];
  try {
    const list = names.map((name) => {
      const prev = incremental.previous && incremental.previous[name];
      const fd = prev && fs.existsSync(prev) ? fs.openSync(prev, 'r') : emptyFile();
      fds.push(fd);
      return { bundleName: name, lastIncrementalTime: (incremental.lastTime && incremental.lastTime[name]) || 0, manifestFd: fd };
    });
    await session.appendBundles(list);
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
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
          // Item manifests (<uri>.rp) are not items: they go into the items' manifest fds.
          const files = fs.readdirSync(path.join(dir, name)).filter((f) => !f.endsWith('.rp'));
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
            if (fs.existsSync(`${src}.rp`)) fs.copyFileSync(`${src}.rp`, `/proc/self/fd/${file.manifestFd}`);
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

const CHAIN = 'chain.json';

/**
 * An incremental backup into a chain folder: `<dir>/chain.json` lists the runs and each bundle's
 * last backup time, `<dir>/manifests/<bundle>.rp` keeps each bundle's latest all-files manifest
 * (the next run's previous manifest), and each run goes into `<dir>/<NNNN>/`.
 */
async function backupIncremental(root, dir, bundles, progress) {
  fs.mkdirSync(path.join(dir, 'manifests'), { recursive: true });
  const chainPath = path.join(dir, CHAIN);
  const chain = fs.existsSync(chainPath) ? JSON.parse(fs.readFileSync(chainPath, 'utf8')) : { runs: [], lastTime: {} };
  const run = String(chain.runs.length + 1).padStart(4, '0');
  const started = Math.floor(Date.now() / 1000);
  const caps = await capabilities(root);
  const names = bundles && bundles.length ? bundles : backupable(caps);
  const previous = Object.fromEntries(names.map((n) => [n, path.join(dir, 'manifests', `${n}.rp`)]));
  const r = await backupToDir(root, path.join(dir, run), names, progress, { incremental: { previous, lastTime: chain.lastTime } });
  for (const [name, x] of Object.entries(r.bundles)) {
    const manifest = path.join(dir, run, name, 'manage.json.rp');
    if (x.ok && fs.existsSync(manifest)) {
      fs.copyFileSync(manifest, previous[name]);
      chain.lastTime[name] = started;
    }
  }
  chain.runs.push(run);
  const tmp = `${chainPath}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(chain, null, 2));
  fs.renameSync(tmp, chainPath);
  return { ...r, run };
}

/** An open, empty, already unlinked temp file: "no previous manifest". */
function emptyFile() {
  const p = path.join(require('node:os').tmpdir(), `ohfile-empty-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.rp`);
  const fd = fs.openSync(p, 'wx+');
  fs.unlinkSync(p);
  return fd;
}

/** Restores a chain folder run by run (or a plain backup folder). */
async function restoreChain(root, dir, bundles, progress) {
  const chainPath = path.join(dir, CHAIN);
  if (!fs.existsSync(chainPath)) return restoreFromDir(root, dir, bundles, progress);
  const chain = JSON.parse(fs.readFileSync(chainPath, 'utf8'));
  const merged = {};
  for (const run of chain.runs) {
    const runDir = path.join(dir, run);
    const present = fs.readdirSync(runDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    const names = bundles && bundles.length ? present.filter((n) => bundles.includes(n)) : present;
    if (!names.length) continue;
    const r = await restoreFromDir(root, runDir, names, progress);
    for (const [name, x] of Object.entries(r.bundles)) merged[name] = x.ok && (!merged[name] || merged[name].ok) ? x : { ...x, ok: false, run };
  }
  return { bundles: merged };
}

module.exports = { capabilities, backupToDir, restoreFromDir, backupIncremental, restoreChain, clone, CAPABILITIES };
