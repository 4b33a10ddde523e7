'use strict';
// On-demand download (CloudFileCache, the gallery's Download) and getFileSyncState through
// '@ohos.file.cloudSync': a file uploaded by device A is cloud-only on device B until B asks.
require('ohfile/register');
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const cloudSync = require('@ohos.file.cloudSync');
const { withRoot } = require('./helpers');
const h = require('./cloudsync-helpers');

const { State, DownloadErrorType } = cloudSync;
const repo = path.resolve(__dirname, '..', '..');
const BIG = 64 << 20;
/** The simulated link speed while a test stops a download part way: BIG takes 2 s. */
const SLOW = 32 << 20;

/** A uploads `files` (app folder); B syncs and sees them cloud-only. */
async function cloudOnlyOnB(files) {
  const devices = h.cloudDevices(2);
  const [a, b] = devices.roots;
  h.writeFiles(a, files);
  await h.syncApp(cloudSync, a);
  await h.syncApp(cloudSync, b);
  for (const rel of Object.keys(files)) assert.equal(fs.existsSync(path.join(h.cloudFolder(b), rel)), false, `${rel} is cloud-only on B`);
  return devices;
}

function assertDownloadEvent(p, uri, size) {
  assert.deepEqual(Object.keys(p), ['state', 'processed', 'size', 'uri', 'error']);
  assert.equal(Object.getPrototypeOf(p), Object.prototype);
  assert.equal(p.uri, uri);
  assert.equal(p.size, size);
  assert.ok(p.processed >= 0 && p.processed <= size, `processed ${p.processed} of ${size}`);
}

/** Files in `dir` (recursively) whose name is not a final one of the folder, e.g. partial data. */
function partials(root) {
  const dir = path.join(root, 'state', 'cloudsync');
  const out = [];
  const walk = (d) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.includes('.partial')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

test('CloudFileCache brings a cloud-only file down with progress: RUNNING… then COMPLETED, whole and checked', async () => {
  const data = h.content(1, 1, 24 << 20);
  const { roots: [, b], cleanup } = await cloudOnlyOnB({ 'docs/report.pdf': data });
  try {
    const uri = h.uriOf('docs/report.pdf');
    const cache = await withRoot(b, () => new cloudSync.CloudFileCache(h.BUNDLE));
    const t0 = Date.now();
    const events = await h.runDownload(cache, uri);
    const seconds = (Date.now() - t0) / 1000;
    events.forEach((p) => assertDownloadEvent(p, uri, data.length));
    const last = events[events.length - 1];
    assert.deepEqual(last, { state: State.COMPLETED, processed: data.length, size: data.length, uri, error: DownloadErrorType.NO_ERROR });
    for (const p of events.slice(0, -1)) assert.equal(p.state, State.RUNNING);
    const processed = events.map((p) => p.processed);
    assert.deepEqual(processed, [...processed].sort((x, y) => x - y), 'processed only grows');
    assert.ok(events.length <= Math.ceil(seconds * 10) + 3, `${events.length} events in ${seconds} s (at most ~10/s plus the last)`);
    assert.equal(h.sha(fs.readFileSync(path.join(h.cloudFolder(b), 'docs/report.pdf'))), h.sha(data));
  } finally {
    cleanup();
  }
});

test('CloudFileCache.stop keeps the partial data and start resumes; stop(uri, true) cleans it', async () => {
  const data = h.content(2, 1, BIG);
  const { roots: [, b], cleanup } = await cloudOnlyOnB({ 'movie.mkv': data });
  try {
    const uri = h.uriOf('movie.mkv');
    const file = path.join(h.cloudFolder(b), 'movie.mkv');
    const cache = await withRoot(b, () => new cloudSync.CloudFileCache(h.BUNDLE));
    // A slow link (device.json networkBytesPerSecond) so the stop lands mid-download.
    h.setConditions(b, { networkBytesPerSecond: SLOW });
    let stopping = null;
    const first = await h.runDownload(cache, uri, (p) => {
      if (!stopping && p.state === State.RUNNING && p.processed > 0) stopping = cache.stop(uri);
    });
    await stopping;
    const atStop = first[first.length - 1];
    assert.equal(atStop.state, State.STOPPED, JSON.stringify(atStop));
    assert.ok(atStop.processed > 0 && atStop.processed < data.length, `stopped part way (${atStop.processed})`);
    assert.equal(fs.existsSync(file), false, 'nothing under the final name');
    assert.ok(partials(b).length > 0, 'the partial data is kept');

    h.setConditions(b, { networkBytesPerSecond: null });
    const resumed = await h.runDownload(cache, uri);
    assert.ok(resumed[0].processed >= atStop.processed, `resumed from ${resumed[0].processed}, stopped at ${atStop.processed}`);
    assert.equal(resumed[resumed.length - 1].state, State.COMPLETED);
    assert.equal(h.sha(fs.readFileSync(file)), h.sha(data));

    // Once more from the cloud, stopped with needClean: the partial data goes.
    cache.cleanCache(uri);
    h.setConditions(b, { networkBytesPerSecond: SLOW });
    let cleaning = null;
    const cleaned = await h.runDownload(cache, uri, (p) => {
      if (!cleaning && p.state === State.RUNNING && p.processed > 0) cleaning = cache.stop(uri, true);
    });
    await cleaning;
    assert.equal(cleaned[cleaned.length - 1].state, State.STOPPED);
    assert.deepEqual(partials(b), [], 'needClean removed the partial data');
    h.setConditions(b, { networkBytesPerSecond: null });
    const fresh = await h.runDownload(cache, uri);
    assert.ok(fresh[0].processed < data.length, 'started again');
    assert.equal(fresh[fresh.length - 1].state, State.COMPLETED);
    assert.equal(h.sha(fs.readFileSync(file)), h.sha(data));
  } finally {
    cleanup();
  }
});

test('cleanCache frees the local copy (the file stays cloud-only) and start brings it back; callback forms', async () => {
  const { roots: [, b], cleanup } = await cloudOnlyOnB({ 'a.txt': 'alpha\n' });
  try {
    const uri = h.uriOf('a.txt');
    const file = path.join(h.cloudFolder(b), 'a.txt');
    const cache = await withRoot(b, () => new cloudSync.CloudFileCache(h.BUNDLE));
    await h.runDownload(cache, uri);
    assert.equal(fs.readFileSync(file, 'utf8'), 'alpha\n');
    cache.cleanCache(uri);
    assert.equal(fs.existsSync(file), false);
    const state = await withRoot(b, () => cloudSync.getFileSyncState(uri));
    assert.ok(Object.values(cloudSync.FileSyncState).includes(state), 'still known');
    // start through the callback form.
    const events = [];
    const done = new Promise((resolve) => cache.on('progress', (p) => {
      events.push(p);
      if (p.state !== State.RUNNING) resolve();
    }));
    const err = await new Promise((resolve) => cache.start(uri, resolve));
    assert.equal(err, undefined);
    await h.timeout(done, 30000, 'the download');
    cache.off('progress');
    assert.equal(events[events.length - 1].state, State.COMPLETED);
    assert.equal(fs.readFileSync(file, 'utf8'), 'alpha\n');
    const stopErr = await new Promise((resolve) => cache.stop(uri, resolve));
    assert.equal(stopErr, undefined, 'stop of a finished download is fine');
  } finally {
    cleanup();
  }
});

test('two starts of one uri share one download', async () => {
  const data = h.content(3, 1, 32 << 20);
  const { roots: [, b], cleanup } = await cloudOnlyOnB({ 'shared.bin': data });
  try {
    const uri = h.uriOf('shared.bin');
    const cache = await withRoot(b, () => new cloudSync.CloudFileCache(h.BUNDLE));
    const events = [];
    const done = new Promise((resolve) => cache.on('progress', (p) => {
      events.push(p);
      if (p.state !== State.RUNNING) resolve();
    }));
    await Promise.all([cache.start(uri), cache.start(uri)]);
    await h.timeout(done, 60000, 'the download');
    await h.sleep(200);
    cache.off('progress');
    assert.equal(events.filter((p) => p.state !== State.RUNNING).length, 1, 'one terminal event');
    assert.equal(h.sha(fs.readFileSync(path.join(h.cloudFolder(b), 'shared.bin'))), h.sha(data));
  } finally {
    cleanup();
  }
});

test('Download (gallery): stop ends it with STOPPED and deletes the partial data; start again completes', async () => {
  const { roots: [a, b], cleanup } = h.cloudDevices(2);
  try {
    const data = h.content(4, 1, BIG);
    fs.mkdirSync(path.join(a, 'media', 'Photo'), { recursive: true });
    fs.writeFileSync(path.join(a, 'media', 'Photo', 'big.mp4'), data);
    for (const root of [a, b]) {
      const g = await withRoot(root, () => new cloudSync.GallerySync());
      const ev = await h.runSync(g);
      assert.equal(ev[ev.length - 1].state, cloudSync.SyncState.COMPLETED);
    }
    assert.equal(fs.existsSync(path.join(b, 'media', 'Photo', 'big.mp4')), false, 'cloud-only on B');
    const uri = 'file://media/Photo/big.mp4';
    const dl = await withRoot(b, () => new cloudSync.Download());
    h.setConditions(b, { networkBytesPerSecond: SLOW });
    let stopping = null;
    const first = await h.runDownload(dl, uri, (p) => {
      if (!stopping && p.state === State.RUNNING && p.processed > 0) stopping = dl.stop(uri);
    });
    await stopping;
    assert.equal(first[first.length - 1].state, State.STOPPED);
    assert.deepEqual(partials(b), [], 'Download.stop always deletes the partial data');
    assert.equal(fs.existsSync(path.join(b, 'media', 'Photo', 'big.mp4')), false);
    h.setConditions(b, { networkBytesPerSecond: null });
    const again = await h.runDownload(dl, uri);
    assert.equal(again[again.length - 1].state, State.COMPLETED);
    assert.equal(h.sha(fs.readFileSync(path.join(b, 'media', 'Photo', 'big.mp4'))), h.sha(data));
    // The documents' spelling, file:///media/…, names the same file.
    const state = await withRoot(b, () => cloudSync.getFileSyncState('file:///media/Photo/big.mp4'));
    assert.ok(Object.values(cloudSync.FileSyncState).includes(state));
  } finally {
    cleanup();
  }
});

test('getFileSyncState: a missing file is 13900002, a uri outside the cloud folder 14000002 (all three forms)', async () => {
  const { roots: [a], cleanup } = h.cloudDevices(1);
  try {
    h.writeFiles(a, { 'here.txt': 'here' });
    await h.syncApp(cloudSync, a);
    await withRoot(a, async () => {
      const missing = h.uriOf('nothing/here.txt');
      const outside = `file://${h.BUNDLE}/data/storage/el2/base/files/x.txt`;
      const check = (code, re) => (e) => {
        assert.equal(e.code, code);
        assert.match(e.message, re);
        return true;
      };
      assert.throws(() => cloudSync.getFileSyncState(missing), check(13900002, /^No such file or directory/));
      assert.throws(() => cloudSync.getFileSyncState(outside), check(14000002, /^Invalid uri/));
      await assert.rejects(cloudSync.getFileSyncState([h.uriOf('here.txt'), missing]), check(13900002, /^No such file or directory/));
      await assert.rejects(cloudSync.getFileSyncState([outside]), check(14000002, /^Invalid uri/));
      const err = await new Promise((resolve) => cloudSync.getFileSyncState([outside], (e) => resolve(e)));
      check(14000002, /^Invalid uri/)(err);
      const states = await new Promise((resolve, reject) => cloudSync.getFileSyncState([h.uriOf('here.txt')], (e, s) => (e ? reject(e) : resolve(s))));
      assert.deepEqual(states, [cloudSync.FileSyncState.UPLOAD_SUCCESS]);
      assert.equal(cloudSync.getFileSyncState(h.uriOf('here.txt')), cloudSync.FileSyncState.UPLOAD_SUCCESS);
      // A new local file waits for its upload.
      h.writeFiles(a, { 'new.txt': 'new' });
      assert.equal(cloudSync.getFileSyncState(h.uriOf('new.txt')), cloudSync.FileSyncState.TO_BE_UPLOADED);
      assert.deepEqual(await cloudSync.getFileSyncState([]), []);
    });
  } finally {
    cleanup();
  }
});

test('a script that starts a download stays alive until it has ended, then exits', async () => {
  const data = h.content(5, 1, 16 << 20);
  const { roots: [, b], cleanup } = await cloudOnlyOnB({ 'k.bin': data });
  try {
    const script = `
const cloudSync = require('@ohos.file.cloudSync');
const fileUri = require('@ohos.file.fileuri');
const c = new cloudSync.CloudFileCache();
c.on('progress', (p) => console.log(p.state));
c.start(fileUri.getUriFromPath('/data/storage/el2/cloud/k.bin'));
`;
    const r = spawnSync(process.execPath, ['-r', 'ohfile/register', '-e', script], {
      cwd: repo,
      encoding: 'utf8',
      timeout: 60000,
      env: { ...process.env, OHFILE_ROOT: b, OHFILE_BUNDLE: h.BUNDLE },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').pop(), String(State.COMPLETED));
    assert.equal(h.sha(fs.readFileSync(path.join(h.cloudFolder(b), 'k.bin'))), h.sha(data));
  } finally {
    cleanup();
  }
});
