'use strict';
// Sample devices for the Node tests: a temp root with apps, profiles and sandbox files.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/**
 * makeDevice({ device: {...}, apps: { name: { bundle, config, files: { rel: content } } } })
 * → the root path. `config` may be an object or raw text; `bundle` likewise.
 */
function makeDevice(spec = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ohfile-node-'));
  if (spec.device) fs.writeFileSync(path.join(root, 'device.json'), JSON.stringify(spec.device));
  for (const [name, app] of Object.entries(spec.apps || {})) {
    const dir = path.join(root, 'apps', name);
    fs.mkdirSync(dir, { recursive: true });
    const text = (v) => (typeof v === 'string' ? v : JSON.stringify(v));
    fs.writeFileSync(path.join(dir, 'bundle.json'), text(app.bundle || { versionCode: 1000000, versionName: '1.0.0' }));
    if (app.config !== undefined) fs.writeFileSync(path.join(dir, 'backup_config.json'), text(app.config));
    for (const [rel, content] of Object.entries(app.files || {})) {
      const p = path.join(dir, 'sandbox', rel);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content);
    }
  }
  return root;
}

/** Runs `fn` with $OHFILE_ROOT set to `root`, restoring it afterwards (also for async fns). */
async function withRoot(root, fn) {
  const old = process.env.OHFILE_ROOT;
  process.env.OHFILE_ROOT = root;
  try {
    return await fn();
  } finally {
    if (old === undefined) delete process.env.OHFILE_ROOT;
    else process.env.OHFILE_ROOT = old;
  }
}

/** Reads a whole fd from offset 0 through the @ohos.file.fs helper. */
function readAll(fileIo, fd) {
  const chunks = [];
  let offset = 0;
  for (;;) {
    const buf = new ArrayBuffer(65536);
    const n = fileIo.readSync(fd, buf, { offset });
    if (n === 0) break;
    chunks.push(Buffer.from(buf, 0, n));
    offset += n;
  }
  return Buffer.concat(chunks).toString('utf8');
}

function openFds() {
  return fs.readdirSync('/proc/self/fd').length;
}

function removeTree(root) {
  fs.rmSync(root, { recursive: true, force: true });
}

module.exports = { makeDevice, withRoot, readAll, openFds, removeTree };

/** rel path → {dir, mode, mtime (s), content hash} of everything under `dir` except `.backup`. */
function treeOf(dir) {
  const crypto = require('node:crypto');
  const out = {};
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p);
      if (rel.split(path.sep).includes('.backup')) continue;
      const st = fs.lstatSync(p);
      if (e.isDirectory()) {
        out[rel] = { dir: true, mode: st.mode & 0o7777 };
        walk(p);
      } else {
        out[rel] = { dir: false, mode: st.mode & 0o7777, mtime: Math.floor(st.mtimeMs / 1000), sha: crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex') };
      }
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

/** Writes a sandbox file with a mode and an mtime (seconds). */
function putFile(root, app, rel, data, mode = 0o644, mtime = 1_600_000_000) {
  const p = path.join(root, 'apps', app, 'sandbox', rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
  fs.chmodSync(p, mode);
  fs.utimesSync(p, mtime, mtime);
}

/** Records GeneralCallbacks as labels; resolves `done` on onAllBundlesEnd. */
function recorder(onFile) {
  const log = [];
  const errors = [];
  let finish;
  const done = new Promise((r) => {
    finish = r;
  });
  const cb = {
    onFileReady: (err, file) => {
      if (err) {
        errors.push(err);
        log.push(`file-err:${err.code}`);
        return;
      }
      log.push(`file:${file.bundleName}:${file.uri}`);
      if (onFile) onFile(file);
      else fs.closeSync(file.fd);
    },
    onBundleBegin: (err, name) => {
      if (err) errors.push(err);
      log.push(err ? `begin-err:${err.code}:${err.data}` : `begin:${name}`);
    },
    onBundleEnd: (err, name) => {
      if (err) errors.push(err);
      log.push(err ? `end-err:${err.code}:${err.data}` : `end:${name}`);
    },
    onAllBundlesEnd: (err) => {
      log.push(err ? `all-err:${err.code}` : 'all');
      finish(log);
    },
    onBackupServiceDied: () => log.push('died'),
    onResultReport: (bundle, result) => log.push(`report:${bundle}:${result}`),
    onProcess: (bundle, process) => log.push(`process:${bundle}:${process}`),
  };
  return { cb, log, errors, done };
}

module.exports.treeOf = treeOf;
module.exports.putFile = putFile;
module.exports.recorder = recorder;
