'use strict';
// Devices for the cloudSync tests: device roots in temp dirs, several of them sharing one cloud
// folder (device.json `"cloud"`), with an app installed whose cloud folder is what FileSync syncs.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { makeDevice, withRoot, removeTree } = require('./helpers');

const BUNDLE = 'com.example.drive';
const CLOUD_DIR = 'data/storage/el2/cloud';
const TERMINAL = new Set([1, 3, 4, 5]); // UPLOAD_FAILED, DOWNLOAD_FAILED, COMPLETED, STOPPED
const DOWNLOAD_TERMINAL = new Set([1, 2, 3]); // COMPLETED, FAILED, STOPPED

/**
 * `n` device roots sharing one cloud; `device` is merged into every device.json. Returns
 * { roots, cloud, cleanup }.
 */
function cloudDevices(n = 2, device = {}) {
  const cloud = fs.mkdtempSync(path.join(os.tmpdir(), 'ohfile-cloud-'));
  const roots = [];
  for (let i = 0; i < n; i++) {
    // The embedded store's fsync is off: these devices are thrown away (a kill -9 keeps the page cache).
    const root = makeDevice({ device: { deviceType: 'default', cloud, cloudFsync: false, ...device }, apps: { [BUNDLE]: {} } });
    fs.mkdirSync(path.join(root, 'apps', BUNDLE, 'sandbox', CLOUD_DIR), { recursive: true });
    fs.mkdirSync(path.join(root, 'media'), { recursive: true });
    roots.push(root);
  }
  return {
    roots,
    cloud,
    cleanup() {
      for (const r of roots) removeTree(r);
      removeTree(cloud);
    },
  };
}

/** Rewrites a device's device.json with `extra` merged in. */
function setConditions(root, extra) {
  const file = path.join(root, 'device.json');
  const cur = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.writeFileSync(file, JSON.stringify({ ...cur, ...extra }));
}

/** The app's cloud folder on `root`. */
function cloudFolder(root) {
  return path.join(root, 'apps', BUNDLE, 'sandbox', CLOUD_DIR);
}

/** The uri of `rel` in the app's cloud folder. */
function uriOf(rel) {
  return `file://${BUNDLE}/${CLOUD_DIR}/${rel.split('/').map(encodeURIComponent).join('/')}`;
}

/** Writes files into the app's cloud folder: { rel: content }. */
function writeFiles(root, files) {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(cloudFolder(root), rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
}

/** Deterministic content of file `i` at `version`, `size` bytes. */
function content(i, version, size = 4096) {
  const seed = crypto.createHash('sha256').update(`${i}:${version}`).digest();
  return Buffer.alloc(size, seed);
}

/** rel → sha256 of every file under `dir` (names starting with `.ohfile-tmp-` excluded when `skipTemps`). */
function hashes(dir, skipTemps = true) {
  const out = {};
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!(skipTemps && e.name.startsWith('.ohfile-tmp-'))) out[path.relative(dir, p)] = sha(fs.readFileSync(p));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

function sha(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function timeout(promise, ms, what) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: no end after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

/**
 * Starts a sync on `syncer` (FileSync/GallerySync) and resolves with the events of that run,
 * the terminal one last. `onEvent(p, events)` sees each event as it comes. A state replayed when
 * the listener is registered comes before the run and is not recorded.
 */
async function runSync(syncer, onEvent = () => {}) {
  const events = [];
  let armed = false;
  let finish;
  const done = new Promise((r) => {
    finish = r;
  });
  syncer.on('progress', (p) => {
    if (!armed) return;
    events.push(p);
    onEvent(p, events);
    if (TERMINAL.has(p.state)) finish(events);
  });
  await sleep(30);
  armed = true;
  try {
    await syncer.start();
    return await timeout(done, 120000, 'sync run');
  } finally {
    syncer.off('progress');
  }
}

/** A FileSync of BUNDLE on `root`. */
function fileSync(cloudSync, root) {
  return withRoot(root, () => new cloudSync.FileSync(BUNDLE));
}

/** Syncs the app folder of `root` once and resolves with the run's events (must end COMPLETED). */
async function syncApp(cloudSync, root) {
  const s = await fileSync(cloudSync, root);
  return runSync(s);
}

/** Runs a download of `uri` on `cache` to a terminal event; resolves with its events. */
async function runDownload(cache, uri, onEvent = () => {}) {
  const events = [];
  let finish;
  const done = new Promise((r) => {
    finish = r;
  });
  const listener = (p) => {
    if (p.uri !== uri) return;
    events.push(p);
    onEvent(p, events);
    if (DOWNLOAD_TERMINAL.has(p.state)) finish(events);
  };
  cache.on('progress', listener);
  try {
    await cache.start(uri);
    return await timeout(done, 120000, `download of ${uri}`);
  } finally {
    cache.off('progress', listener);
  }
}

/** getFileSyncState of many uris, 100 at a time (the API's batch limit). */
async function statesOf(cloudSync, root, uris) {
  const out = [];
  for (let i = 0; i < uris.length; i += 100) {
    out.push(...(await withRoot(root, () => cloudSync.getFileSyncState(uris.slice(i, i + 100)))));
  }
  return out;
}

module.exports = {
  BUNDLE,
  CLOUD_DIR,
  TERMINAL,
  cloudDevices,
  setConditions,
  cloudFolder,
  uriOf,
  writeFiles,
  content,
  hashes,
  sha,
  sleep,
  timeout,
  runSync,
  fileSync,
  syncApp,
  runDownload,
  statesOf,
};
