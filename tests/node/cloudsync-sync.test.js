'use strict';
// FileSync / GallerySync through '@ohos.file.cloudSync' on real device roots that share one cloud:
// progress events, coalescing, stop mid-run, pre-flight codes, last sync time, kill -9 mid-run.
require('ohfile/register');
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const cloudSync = require('@ohos.file.cloudSync');
const { withRoot } = require('./helpers');
const h = require('./cloudsync-helpers');

const { SyncState, ErrorType, FileSyncState } = cloudSync;
const repo = path.resolve(__dirname, '..', '..');

/** `n` files of `size` bytes, version `v`: { 'd<k>/f<i>.bin': content }. */
function tree(n, v = 1, size = 4096) {
  const files = {};
  for (let i = 0; i < n; i++) files[`d${i % 20}/f${i}.bin`] = h.content(i, v, size);
  return files;
}

function assertSyncEvent(p) {
  assert.deepEqual(Object.keys(p), ['state', 'error']);
  assert.equal(Object.getPrototypeOf(p), Object.prototype);
  assert.ok(Object.values(SyncState).includes(p.state), `state ${p.state}`);
  assert.ok(Object.values(ErrorType).includes(p.error), `error ${p.error}`);
}

test('progress: UPLOADING… then COMPLETED on the uploader, DOWNLOADING on the other device; B sees cloud-only files', async () => {
  const { roots: [a, b], cleanup } = h.cloudDevices(2);
  try {
    h.writeFiles(a, tree(300));
    h.writeFiles(a, { 'notes/today.txt': 'Buy milk\n' });
    const up = await h.syncApp(cloudSync, a);
    up.forEach(assertSyncEvent);
    assert.deepEqual(up[up.length - 1], { state: SyncState.COMPLETED, error: ErrorType.NO_ERROR });
    assert.ok(up.some((p) => p.state === SyncState.UPLOADING), `uploads were reported: ${JSON.stringify(up)}`);
    for (const p of up.slice(0, -1)) {
      assert.ok([SyncState.UPLOADING, SyncState.DOWNLOADING].includes(p.state), JSON.stringify(p));
      assert.equal(p.error, ErrorType.NO_ERROR);
    }

    const down = await h.syncApp(cloudSync, b);
    down.forEach(assertSyncEvent);
    assert.deepEqual(down[down.length - 1], { state: SyncState.COMPLETED, error: ErrorType.NO_ERROR });
    assert.ok(down.some((p) => p.state === SyncState.DOWNLOADING), `the pull was reported: ${JSON.stringify(down)}`);
    // Cloud-only on B: a state, but no local file.
    assert.equal(fs.existsSync(path.join(h.cloudFolder(b), 'notes/today.txt')), false);
    const state = await withRoot(b, () => cloudSync.getFileSyncState(h.uriOf('notes/today.txt')));
    assert.ok(Object.values(FileSyncState).includes(state));
    // On A every file was uploaded.
    const uris = Object.keys(tree(300)).map(h.uriOf);
    const states = await h.statesOf(cloudSync, a, uris);
    assert.deepEqual([...new Set(states)], [FileSyncState.UPLOAD_SUCCESS]);
  } finally {
    cleanup();
  }
});

test('a listener registered while idle gets the current state replayed', async () => {
  const { roots: [a], cleanup } = h.cloudDevices(1);
  try {
    h.writeFiles(a, { 'x.txt': 'x' });
    await h.runSync(await h.fileSync(cloudSync, a));
    const other = await h.fileSync(cloudSync, a);
    const replay = await h.timeout(new Promise((resolve) => {
      other.on('progress', (p) => {
        other.off('progress');
        resolve(p);
      });
    }), 5000, 'the replay');
    assert.deepEqual(replay, { state: SyncState.COMPLETED, error: ErrorType.NO_ERROR });
  } finally {
    cleanup();
  }
});

test('one callback per instance: a second on() is ignored; off() drops it', async () => {
  const { roots: [a], cleanup } = h.cloudDevices(1);
  try {
    h.writeFiles(a, { 'x.txt': 'x' });
    const s = await h.fileSync(cloudSync, a);
    const first = [];
    const second = [];
    s.on('progress', (p) => first.push(p));
    s.on('progress', (p) => second.push(p));
    // Another instance of the same folder runs the sync; both see its events.
    const t = await h.fileSync(cloudSync, a);
    await h.runSync(t);
    await h.sleep(100);
    assert.ok(first.some((p) => p.state === SyncState.COMPLETED), 'the first callback got the run');
    assert.equal(second.length, 0, 'the second registration was ignored');
    s.off('progress', () => {}); // OpenHarmony drops the instance's callback whatever is passed
    const before = first.length;
    h.writeFiles(a, { 'y.txt': 'y' });
    await h.runSync(t);
    await h.sleep(100);
    assert.equal(first.length, before, 'nothing after off()');
  } finally {
    cleanup();
  }
});

test('start during a run succeeds and queues one more run: one COMPLETED at the end, the late work done', async () => {
  const { roots: [a, b], cleanup } = h.cloudDevices(2);
  try {
    h.writeFiles(a, tree(2000));
    const s = await h.fileSync(cloudSync, a);
    let second = null;
    const events = await h.runSync(s, (p, evs) => {
      if (second === null && p.state === SyncState.UPLOADING) {
        // The first run is in flight: a new file, then a second start.
        h.writeFiles(a, { 'late.txt': 'written during the first run\n' });
        second = s.start();
      }
    });
    assert.ok(second, 'the run was observed in flight');
    await second;
    await h.sleep(300);
    const terminals = events.filter((p) => h.TERMINAL.has(p.state));
    assert.deepEqual(terminals, [{ state: SyncState.COMPLETED, error: ErrorType.NO_ERROR }], JSON.stringify(events.slice(-5)));
    assert.equal(events[events.length - 1].state, SyncState.COMPLETED);
    // The late file went up: B can bring it down.
    await h.syncApp(cloudSync, b);
    const cache = await withRoot(b, () => new cloudSync.CloudFileCache(h.BUNDLE));
    const dl = await h.runDownload(cache, h.uriOf('late.txt'));
    assert.equal(dl[dl.length - 1].state, cloudSync.State.COMPLETED);
    assert.equal(fs.readFileSync(path.join(h.cloudFolder(b), 'late.txt'), 'utf8'), 'written during the first run\n');
  } finally {
    cleanup();
  }
});

test('stop mid-run ends the run with STOPPED; a later start finishes the job', async () => {
  const { roots: [a, b], cleanup } = h.cloudDevices(2);
  try {
    const files = tree(2000);
    h.writeFiles(a, files);
    const s = await h.fileSync(cloudSync, a);
    let stopped = null;
    const events = await h.runSync(s, (p) => {
      if (!stopped && p.state === SyncState.UPLOADING) stopped = s.stop();
    });
    await stopped;
    assert.deepEqual(events[events.length - 1], { state: SyncState.STOPPED, error: ErrorType.NO_ERROR });
    const uris = Object.keys(files).map(h.uriOf);
    const mid = await h.statesOf(cloudSync, a, uris);
    assert.ok(mid.some((x) => x !== FileSyncState.UPLOAD_SUCCESS), 'the stop left work undone');
    // stop when idle is fine too.
    await s.stop();

    const again = await h.runSync(s);
    assert.deepEqual(again[again.length - 1], { state: SyncState.COMPLETED, error: ErrorType.NO_ERROR });
    const after = await h.statesOf(cloudSync, a, uris);
    assert.deepEqual([...new Set(after)], [FileSyncState.UPLOAD_SUCCESS]);
    await h.syncApp(cloudSync, b);
    const onB = await h.statesOf(cloudSync, b, uris);
    assert.equal(onB.length, uris.length, 'B knows every file');
  } finally {
    cleanup();
  }
});

const PREFLIGHT = [
  ['no network', { network: 'none' }, 22400002, /^Network unavailable/],
  ['the app\'s cloud switch off', { cloudSwitch: { [h.BUNDLE]: false } }, 22400001, /^Cloud status not ready/],
  ['battery at 5 % without a charger', { batteryLevel: 5, charging: false }, 22400003, /^Battery level warning/],
];

for (const [what, conditions, code, message] of PREFLIGHT) {
  test(`start() with ${what}: ${code}, as a rejection and through the callback`, async () => {
    const { roots: [a], cleanup } = h.cloudDevices(1, conditions);
    try {
      h.writeFiles(a, { 'x.txt': 'x' });
      const s = await h.fileSync(cloudSync, a);
      await assert.rejects(s.start(), (e) => {
        assert.equal(e.code, code);
        assert.match(e.message, message);
        return true;
      });
      const err = await new Promise((resolve) => s.start((e) => resolve(e)));
      assert.equal(err.code, code);
      assert.match(err.message, message);
      assert.equal(await s.getLastSyncTime(), 0, 'nothing ran');
    } finally {
      cleanup();
    }
  });
}

test('GallerySync checks the gallery\'s own cloud switch and the network', async () => {
  const { roots: [a], cleanup } = h.cloudDevices(1, { cloudSwitch: { media: false } });
  try {
    const g = await withRoot(a, () => new cloudSync.GallerySync());
    await assert.rejects(g.start(), (e) => e.code === 22400001);
    h.setConditions(a, { cloudSwitch: { media: true }, network: 'none' });
    const err = await new Promise((resolve) => g.start(resolve));
    assert.equal(err.code, 22400002);
    // The app's switch does not matter to the gallery.
    h.setConditions(a, { cloudSwitch: { media: true, [h.BUNDLE]: false }, network: 'wifi' });
    fs.writeFileSync(path.join(a, 'media', 'p.jpg'), 'jpeg');
    const events = await h.runSync(g);
    assert.deepEqual(events[events.length - 1], { state: SyncState.COMPLETED, error: ErrorType.NO_ERROR });
  } finally {
    cleanup();
  }
});

test('getLastSyncTime: 0 before any run, the end of the last successful run after (both forms)', async () => {
  const { roots: [a], cleanup } = h.cloudDevices(1);
  try {
    h.writeFiles(a, { 'x.txt': 'x' });
    const s = await h.fileSync(cloudSync, a);
    assert.equal(await s.getLastSyncTime(), 0);
    const viaCallback = await new Promise((resolve, reject) => s.getLastSyncTime((err, t) => (err ? reject(err) : resolve(t))));
    assert.equal(viaCallback, 0);
    const t0 = Date.now();
    await h.runSync(s);
    const t1 = Date.now();
    const t = await s.getLastSyncTime();
    assert.equal(typeof t, 'number');
    assert.ok(t >= t0 - 5 && t <= t1 + 5, `${t} in [${t0}, ${t1}]`);
    assert.ok(!Number.isNaN(new Date(t).getTime()));
    // A failed start leaves it alone.
    h.setConditions(a, { network: 'none' });
    await assert.rejects(s.start());
    assert.equal(await s.getLastSyncTime(), t);
  } finally {
    cleanup();
  }
});

test('a script that starts a sync stays alive until the run has ended, then exits', () => {
  const { roots: [a], cleanup } = h.cloudDevices(1);
  try {
    h.writeFiles(a, tree(500));
    const script = `
const cloudSync = require('@ohos.file.cloudSync');
const s = new cloudSync.FileSync();
s.on('progress', (p) => console.log(JSON.stringify(p)));
s.start().then(() => console.log('started'));
`;
    const r = spawnSync(process.execPath, ['-r', 'ohfile/register', '-e', script], {
      cwd: repo,
      encoding: 'utf8',
      timeout: 60000,
      env: { ...process.env, OHFILE_ROOT: a, OHFILE_BUNDLE: h.BUNDLE },
    });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.includes('started'));
    assert.equal(lines[lines.length - 1], JSON.stringify({ state: SyncState.COMPLETED, error: ErrorType.NO_ERROR }));
  } finally {
    cleanup();
  }
});

// A child that syncs the app folder of $OHFILE_ROOT and says "busy" once the run is under way.
const SYNC_CHILD = `
const cloudSync = require('@ohos.file.cloudSync');
const s = new cloudSync.FileSync();
let said = false;
s.on('progress', (p) => {
  if (!said && (p.state === cloudSync.SyncState.UPLOADING || p.state === cloudSync.SyncState.DOWNLOADING)) {
    said = true;
    console.log('busy');
  } else if (said && p.state !== cloudSync.SyncState.UPLOADING && p.state !== cloudSync.SyncState.DOWNLOADING) {
    console.log('ended');
  }
});
setTimeout(() => s.start(), 30);
`;

/** Runs SYNC_CHILD on `root` and SIGKILLs it `delayMs` after it reports the run under way. */
function syncAndKill(root, delayMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'ohfile/register', '-e', SYNC_CHILD], {
      cwd: repo,
      env: { ...process.env, OHFILE_ROOT: root, OHFILE_BUNDLE: h.BUNDLE },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let killed = false;
    child.stdout.on('data', (d) => {
      out += d;
      if (!killed && out.includes('busy')) {
        killed = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`the child ended on its own (${code}) before the kill`));
      else if (out.includes('ended')) reject(new Error('the run had ended before the kill: make the tree bigger'));
      else resolve();
    });
  });
}

test('kill -9 in the middle of a run (upload and download): the next run completes, no partial file under a final name, state consistent', async () => {
  const { roots: [a, b], cleanup } = h.cloudDevices(2);
  try {
    // The same tree on both devices, synced: identical content is no conflict.
    // Pulls apply 500 changes a page and report each page: B's run is killed inside page 2.
    const n = 1100;
    const v1 = { ...tree(n, 1, 8192), 'big/one.bin': h.content(9001, 1, 8 << 20), 'big/two.bin': h.content(9002, 1, 8 << 20) };
    h.writeFiles(a, v1);
    h.writeFiles(b, v1);
    await h.syncApp(cloudSync, a);
    await h.syncApp(cloudSync, b);

    // A changes everything; its upload run dies half way; the next run finishes it.
    const v2 = { ...tree(n, 2, 8192), 'big/one.bin': h.content(9001, 2, 8 << 20), 'big/two.bin': h.content(9002, 2, 8 << 20) };
    h.writeFiles(a, v2);
    await syncAndKill(a, 150);
    const up = await h.syncApp(cloudSync, a);
    assert.deepEqual(up[up.length - 1], { state: SyncState.COMPLETED, error: ErrorType.NO_ERROR });
    const uris = Object.keys(v2).map(h.uriOf);
    assert.deepEqual([...new Set(await h.statesOf(cloudSync, a, uris))], [FileSyncState.UPLOAD_SUCCESS]);

    // B pulls the new versions of its local files; that run dies half way too.
    await syncAndKill(b, 150);
    const expected = Object.fromEntries(Object.entries(v2).map(([rel, c]) => [rel, h.sha(c)]));
    const old = Object.fromEntries(Object.entries(v1).map(([rel, c]) => [rel, h.sha(c)]));
    const mid = h.hashes(h.cloudFolder(b));
    for (const [rel, digest] of Object.entries(mid)) {
      assert.ok(digest === expected[rel] || digest === old[rel], `${rel} is whole (old or new) after the kill`);
    }
    const down = await h.syncApp(cloudSync, b);
    assert.deepEqual(down[down.length - 1], { state: SyncState.COMPLETED, error: ErrorType.NO_ERROR });
    assert.deepEqual(h.hashes(h.cloudFolder(b)), expected, 'B holds exactly the new tree');
    const onB = await h.statesOf(cloudSync, b, uris);
    for (const [i, st] of onB.entries()) {
      assert.ok(st === FileSyncState.COMPLETED || st === FileSyncState.UPLOAD_SUCCESS, `${uris[i]}: ${st}`);
    }
    // Nothing was taken for a local edit: A's next run finds nothing new, and no conflict copies.
    await h.syncApp(cloudSync, a);
    assert.deepEqual(h.hashes(h.cloudFolder(a)), expected);
  } finally {
    cleanup();
  }
});
