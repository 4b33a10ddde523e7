#!/usr/bin/env node
// The `ohfile` command: device clone, backup and restore through the public @ohos.file.backup API,
// and a cloud sync run through @ohos.file.cloudSync.
//   ohfile capabilities [--root DIR]
//   ohfile backup  --root DIR --to FOLDER   [bundle...]
//   ohfile restore --root DIR --from FOLDER [bundle...]
//   ohfile clone   --from ROOT_A --to ROOT_B [bundle...]
//   ohfile sync    ROOT [bundle]
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const USAGE = `usage:
  ohfile capabilities [--root DIR]                 print a device's capability JSON
  ohfile backup  --root DIR --to FOLDER [--incremental] [bundle…]
                                                   back up apps (default: all that allow it);
                                                   --incremental adds a run to a chain in FOLDER
  ohfile restore --root DIR --from FOLDER [bundle…] restore apps from a backup folder (a chain:
                                                   every run, in order)
  ohfile clone   --from ROOT_A --to ROOT_B [bundle…] clone apps from device A to device B
  ohfile sync    ROOT [bundle]                     sync the app's cloud folder (FileSync) or, with
                                                   no bundle, the gallery (GallerySync) with the
                                                   device's cloud; exits 1 with the code on failure
  options: --quiet (no progress bar)`;

function fail(msg) {
  console.error(`ohfile: ${msg}\n${USAGE}`);
  process.exit(2);
}

function take(args, name, required) {
  const i = args.indexOf(name);
  if (i < 0) {
    if (required) fail(`${name} is required`);
    return undefined;
  }
  const v = args[i + 1];
  if (!v || v.startsWith('--')) fail(`${name} needs a value`);
  args.splice(i, 2);
  return path.resolve(v);
}

function flag(args, name) {
  const i = args.indexOf(name);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
}

/** A progress bar over bytes (cli-progress), or nothing when quiet or not a terminal. */
function progressBar(label, total, quiet) {
  if (quiet || !process.stderr.isTTY) return { tick() {}, stop() {} };
  const cliProgress = require('cli-progress');
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} MiB | {bundle}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  const mib = (b) => Math.round((b / 1048576) * 10) / 10;
  let done = 0;
  bar.start(mib(Math.max(total, 1)), 0, { bundle: '' });
  return {
    tick({ bundle, bytes }) {
      done += bytes;
      bar.update(mib(Math.min(done, total)), { bundle });
    },
    stop() {
      bar.stop();
    },
  };
}

function report(kind, bundles) {
  let failed = 0;
  for (const [name, r] of Object.entries(bundles)) {
    if (r.ok) console.log(`${kind.padEnd(7)} ok    ${name}${r.files !== undefined ? ` (${r.files} files, ${r.bytes} bytes)` : ''}`);
    else {
      failed += 1;
      console.log(`${kind.padEnd(7)} FAIL  ${name}: ${r.message || ''} (${r.code})`);
    }
  }
  return failed;
}

/**
 * One sync run of the device at `root` (FileSync of `bundle`, or GallerySync), shown as it goes.
 * Resolves with the final SyncProgress; rejects with the BusinessError of a refused start.
 */
async function syncRun(root, bundle, quiet) {
  process.env.OHFILE_ROOT = root;
  const { cloudSync } = require('../node-binding/lib/index.js');
  const names = Object.fromEntries(Object.entries(cloudSync.SyncState).map(([k, v]) => [v, k]));
  const s = bundle ? new cloudSync.FileSync(bundle) : new cloudSync.GallerySync();
  const what = bundle || 'gallery';
  let bar = null;
  if (!quiet && process.stderr.isTTY) {
    const cliProgress = require('cli-progress');
    bar = new cliProgress.SingleBar(
      { format: `sync ${what} [{bar}] {phase} | {value} batches | {duration_formatted}`, stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(1, 0, { phase: 'STARTING' });
  }
  let batches = 0;
  let armed = false;
  const end = new Promise((resolve) => {
    s.on('progress', (p) => {
      if (!armed) return; // the state of an earlier run, replayed on registration
      if (p.state === cloudSync.SyncState.UPLOADING || p.state === cloudSync.SyncState.DOWNLOADING) {
        batches += 1;
        if (bar) {
          bar.setTotal(batches + 1);
          bar.update(batches, { phase: names[p.state] });
        }
      } else resolve(p);
    });
  });
  await new Promise((r) => setTimeout(r, 20));
  armed = true;
  try {
    await s.start();
    const last = await end;
    if (bar) {
      bar.setTotal(Math.max(batches, 1));
      bar.update(Math.max(batches, 1), { phase: names[last.state] });
    }
    return { last, batches, names, time: bundle ? await s.getLastSyncTime() : null, errorName: Object.keys(cloudSync.ErrorType).find((k) => cloudSync.ErrorType[k] === last.error) };
  } finally {
    if (bar) bar.stop();
    s.off('progress');
  }
}

const args = process.argv.slice(2);
const quiet = flag(args, '--quiet');
const cmd = args.shift();
const tools = require('../node-binding/lib/tools/clone.js');

try {
  if (cmd === 'capabilities') {
    const root = take(args, '--root', false);
    console.log(JSON.stringify(await tools.capabilities(root || process.env.OHFILE_ROOT), null, 2));
  } else if (cmd === 'backup') {
    const root = take(args, '--root', true);
    const to = take(args, '--to', true);
    const incremental = flag(args, '--incremental');
    const caps = await tools.capabilities(root);
    const total = caps.bundleInfos.filter((b) => !args.length || args.includes(b.name)).reduce((n, b) => n + b.spaceOccupied, 0);
    const bar = progressBar('backup ', total, quiet);
    const run = incremental ? tools.backupIncremental : tools.backupToDir;
    const r = await run(root, to, args, (p) => bar.tick(p)).finally(() => bar.stop());
    if (r.run) console.log(`incremental run ${r.run} in ${to}`);
    process.exitCode = report('backup', r.bundles) ? 1 : 0;
  } else if (cmd === 'restore') {
    const root = take(args, '--root', true);
    const from = take(args, '--from', true);
    const bar = progressBar('restore', 0, true);
    const r = await tools.restoreChain(root, from, args, (p) => bar.tick(p)).finally(() => bar.stop());
    process.exitCode = report('restore', r.bundles) ? 1 : 0;
  } else if (cmd === 'clone') {
    const from = take(args, '--from', true);
    const to = take(args, '--to', true);
    const caps = await tools.capabilities(from);
    const total = caps.bundleInfos.filter((b) => b.allToBackup && (!args.length || args.includes(b.name))).reduce((n, b) => n + b.spaceOccupied, 0);
    const bar = progressBar('clone  ', total * 2, quiet);
    const r = await tools.clone(from, to, args, (p) => bar.tick(p)).finally(() => bar.stop());
    const failed = report('backup', r.backup) + report('restore', r.restore);
    process.exitCode = failed ? 1 : 0;
  } else if (cmd === 'sync') {
    if (!args.length || args.length > 2 || args.some((a) => a.startsWith('--'))) fail('sync takes ROOT [bundle]');
    const root = path.resolve(args[0]);
    const r = await syncRun(root, args[1], quiet);
    if (r.last.state === 4) {
      console.log(`sync ${args[1] || 'gallery'}: COMPLETED (${r.batches} batches)${r.time ? `, last sync ${new Date(r.time).toISOString()}` : ''}`);
    } else {
      console.log(`sync ${args[1] || 'gallery'}: ${r.names[r.last.state]} (error ${r.errorName}, ${r.last.error})`);
      process.exitCode = 1;
    }
  } else {
    fail(cmd ? `unknown command ${cmd}` : 'no command');
  }
} catch (e) {
  console.error(`ohfile: ${e.message}${e.code !== undefined ? ` (${e.code})` : ''}`);
  process.exit(1);
}
