#!/usr/bin/env node
// The asset store benchmark (issue 6, "Speed"): add, query by alias (the secret back) and remove of
// 10,000 assets (--quick: 1,000), one call each, in operations per second, against a baseline
// measured in the same run: the same SQL on the same bundled SQLite, with the core's schema and
// pragmas, without validation, keys or crypto (ffi-c/examples/asset_bench.rs). Target: at least
// 0.5× the baseline's ops/s, checked on the C NDK face (OH_Asset_*: the core as an OpenHarmony C
// app calls it, finding the app's store per call).
//
// Also reported: the core's AssetStore held directly (what ohf_asset_* calls on a handle), and
// '@ohos.security.asset' in Node (bench/asset_client.cjs), *Sync forms and awaited Promise forms:
// each call converts its AssetMaps, finds the app's process-wide store and, for the Promise forms,
// runs on libuv's pool. Every device is made just before its run (a young device.json).
//
//   node bench/asset.mjs [--quick] [--runs N] [--no-build] [--work DIR]
// or as part of `npm run bench -- --only asset`. Merges its part ("asset") into bench/results.json.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TARGET = 0.5;
const BUNDLE = 'com.bench.asset';
const OPS = ['add', 'query', 'remove'];

function run(cmd, args, options = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 30 * 60 * 1000, ...options });
}

function lastJson(r, what) {
  if (r.status !== 0) throw new Error(`${what} failed (${r.error ? r.error.message : `status ${r.status}`}): ${(r.stderr || '').trim().slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** A fresh device root with the benchmark's app installed. */
function device(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'apps', BUNDLE), { recursive: true });
  fs.writeFileSync(path.join(dir, 'device.json'), JSON.stringify({ deviceType: 'default', trustGroup: 'trust-group' }));
  fs.writeFileSync(path.join(dir, 'apps', BUNDLE, 'bundle.json'), JSON.stringify({ versionCode: 1, versionName: '1' }));
  return dir;
}

/**
 * Runs the benchmark; returns its results (ops/s, ratios, a printable table). Failures are pushed
 * onto `failures`; a missed target is reported, not a failure.
 */
export function benchAsset({ quick, runs, build, work, repo, dataDir, log, failures }) {
  const n = quick ? 1000 : 10000;
  const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(repo, process.env.CARGO_TARGET_DIR) : path.join(repo, 'target');
  const release = path.join(targetDir, 'release');
  if (build) {
    log('building the release libraries and the asset bench (cargo build --release -p ohfile-ffi -p ohfile-node; --example asset_bench)');
    const libs = run('cargo', ['build', '--release', '-p', 'ohfile-ffi', '-p', 'ohfile-node'], { cwd: repo, stdio: 'inherit' });
    const r = libs.status === 0 ? run('cargo', ['build', '--release', '-p', 'ohfile-ffi', '--example', 'asset_bench'], { cwd: repo, stdio: 'inherit' }) : libs;
    if (r.status !== 0) {
      failures.push('asset: the release build failed');
      return null;
    }
  }
  // The release addon under its own name, loaded through OHFILE_NATIVE (the tests' debug addon in
  // node-binding/native/ stays as it is).
  const nativeDir = path.join(dataDir, 'native');
  fs.mkdirSync(nativeDir, { recursive: true });
  const addon = path.join(nativeDir, 'ohfile-asset-release.node');
  fs.copyFileSync(path.join(release, 'libohfile_node.so'), `${addon}.${process.pid}`);
  fs.renameSync(`${addon}.${process.pid}`, addon);
  fs.mkdirSync(work, { recursive: true });
  log(`\nasset store: ${n} assets, add / query by alias (with the secret) / remove, best of ${runs} runs, in ${work}`);

  let rust;
  try {
    rust = lastJson(run(path.join(release, 'examples', 'asset_bench'), [path.join(work, 'rust'), String(n), String(runs)], { stdio: ['ignore', 'pipe', 'inherit'] }), 'asset_bench');
  } catch (e) {
    failures.push(`asset: ${e.message}`);
    return null;
  }
  const best = { sync: {}, promise: {} };
  for (let r = 0; r < runs; r++) {
    const root = device(path.join(work, 'node-device'));
    let res;
    try {
      res = lastJson(run(process.execPath, [path.join(repo, 'bench', 'asset_client.cjs'), String(n)], { env: { ...process.env, OHFILE_ROOT: root, OHFILE_BUNDLE: BUNDLE, OHFILE_NATIVE: addon } }), 'asset_client.cjs');
    } catch (e) {
      failures.push(`asset: ${e.message}`);
      return null;
    }
    for (const form of ['sync', 'promise']) {
      for (const op of OPS) best[form][op] = Math.min(best[form][op] ?? Infinity, res[form][op]);
    }
    log(`  run ${r + 1}/${runs} node    : ${OPS.map((op) => `${op} ${res.sync[op].toFixed(3)} s (Promise ${res.promise[op].toFixed(3)} s)`).join(', ')}`);
  }
  fs.rmSync(path.join(work, 'node-device'), { recursive: true, force: true });

  const perSecond = (secs) => Object.fromEntries(OPS.map((op) => [op, n / secs[op]]));
  const opsPerSecond = {
    baseline: rust.baseline,
    ndk: rust.ndk,
    store: rust.store,
    nodeSync: perSecond(best.sync),
    nodePromise: perSecond(best.promise),
  };
  const WHO = ['ndk', 'store', 'nodeSync', 'nodePromise'];
  const ratio = Object.fromEntries(WHO.map((who) => [who, Object.fromEntries(OPS.map((op) => [op, opsPerSecond[who][op] / opsPerSecond.baseline[op]]))]));
  const meetsTarget = Object.fromEntries(Object.entries(ratio).map(([who, r]) => [who, OPS.every((op) => r[op] >= TARGET)]));

  const header = ['op', 'SQLite ops/s', 'NDK ops/s', 'NDK/SQLite', 'store ops/s', 'store/SQLite', 'Node Sync ops/s', 'Sync/SQLite', 'Node Promise ops/s', 'Promise/SQLite'];
  const f = (x) => Math.round(x).toLocaleString('en-US');
  const r2 = (x) => `${x.toFixed(2)}x${x >= TARGET ? '' : ' (<0.5)'}`;
  const lines = OPS.map((op) => [op, f(opsPerSecond.baseline[op]), ...WHO.flatMap((who) => [f(opsPerSecond[who][op]), r2(ratio[who][op])])]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  const table = [
    fmt(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...lines.map(fmt),
    '',
    `${n} assets, best of ${runs} runs. SQLite = the core's SQL without validation, keys or crypto.`,
    `Compared against the target (>= ${TARGET}x SQLite): NDK = the C NDK names OH_Asset_Add/Query/Remove, app and device from the environment per call: ${meetsTarget.ndk ? 'MET' : 'MISSED'}.`,
    'Also shown: store = the core\'s AssetStore held directly (ohf_asset_* on a handle); Node = @ohos.security.asset, *Sync forms and Promise forms awaited one by one.',
  ].join('\n');
  return { date: new Date().toISOString(), mode: quick ? 'quick' : 'full', assets: n, runs, workDir: work, target: TARGET, targetCheckedOn: 'ndk', opsPerSecond, ratio, meetsTarget, table };
}

// ---- standalone: node bench/asset.mjs [...] ----
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const benchDir = path.dirname(fileURLToPath(import.meta.url));
  const repo = path.resolve(benchDir, '..');
  const o = { quick: false, runs: 3, build: true, work: null };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--runs') o.runs = Math.max(1, Number.parseInt(argv[++i], 10) || 3);
    else if (a === '--no-build') o.build = false;
    else if (a === '--work') o.work = path.resolve(argv[++i]);
    else {
      console.error('usage: node bench/asset.mjs [--quick] [--runs N] [--no-build] [--work DIR]');
      process.exit(2);
    }
  }
  let shm = false;
  try {
    shm = fs.statfsSync('/dev/shm').type === 0x01021994;
  } catch {
    /* no /dev/shm */
  }
  const work = o.work || (shm ? '/dev/shm/ohfile-bench-asset' : path.join(benchDir, 'data', 'work-asset'));
  const failures = [];
  const res = benchAsset({ ...o, work, repo, dataDir: path.join(benchDir, 'data'), log: (s) => console.log(s), failures });
  fs.rmSync(work, { recursive: true, force: true });
  if (res) {
    console.log(`\n${res.table}`);
    const file = path.join(benchDir, 'results.json');
    let previous = {};
    try {
      previous = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      /* none yet */
    }
    fs.writeFileSync(file, `${JSON.stringify({ ...previous, asset: { ...res, machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version } } }, null, 2)}\n`);
    console.log('\nwrote the "asset" part of bench/results.json');
  }
  if (failures.length) {
    console.error(`\n${failures.length} FAILURE(S):\n${failures.map((x) => `  - ${x}`).join('\n')}`);
    process.exit(1);
  }
}
