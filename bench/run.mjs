#!/usr/bin/env node
// The backup/restore benchmark: `npm run bench` (full sizes) or `npm run bench -- --quick`.
//
// One run builds the release libraries, makes (or reuses) the datasets in bench/data/, and times,
// on the same trees and in the same run, GNU tar (the baseline) against ohfile through its public
// Node API and its public C API. It reports best-of-N wall times as ratios to tar, plus peak RSS
// and the most fds open at once, and checks every restore against the source. See bench/README.md.
//
// Options: --quick (small trees), --runs N (default 3), --only S,M, --no-build (use what is in
// target/release), --work DIR (where outputs go; default bench/data/work, the datasets' disk),
// --keep (leave the outputs there).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE, FILES_DIR, ensureDataset, installApp } from './datasets.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(benchDir, '..');
const dataDir = path.join(benchDir, 'data');
const MiB = 1024 * 1024;

// Targets (docs/…perf anchors): ratios to tar, memory per file, fds.
const TARGET = { backup: 1.25, restore: 1.3, rssBase: 16 * MiB, rssPerFile: 200, fds: 64 };
const RUN_TIMEOUT_MS = 10 * 60 * 1000;

function parseArgs(argv) {
  const o = { quick: false, runs: 3, only: ['S', 'M'], build: true, work: path.join(dataDir, 'work'), keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--runs') o.runs = Math.max(1, Number.parseInt(argv[++i], 10) || 3);
    else if (a === '--only') o.only = argv[++i].split(',').map((s) => s.trim().toUpperCase());
    else if (a === '--no-build') o.build = false;
    else if (a === '--work') o.work = path.resolve(argv[++i]);
    else if (a === '--keep') o.keep = true;
    else if (a === '-h' || a === '--help') {
      console.log('usage: node bench/run.mjs [--quick] [--runs N] [--only S,M] [--no-build] [--work DIR] [--keep]');
      process.exit(0);
    } else {
      console.error(`bench: unknown option ${a}`);
      process.exit(2);
    }
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const mode = opts.quick ? 'quick' : 'full';
const failures = [];

function log(s) {
  process.stdout.write(`${s}\n`);
}

function run(cmd, args, options = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * MiB, timeout: RUN_TIMEOUT_MS, ...options });
}

function must(cmd, args, options) {
  const r = run(cmd, args, { stdio: 'inherit', ...options });
  if (r.status !== 0) {
    console.error(`bench: ${cmd} ${args.join(' ')} failed (${r.error ? r.error.message : `status ${r.status}`})`);
    process.exit(1);
  }
}

// ------------------------------------------------------------------ build

/** Builds libohfile.a and the addon in release mode; returns {addon, cClone}. */
function build() {
  const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(repo, process.env.CARGO_TARGET_DIR) : path.join(repo, 'target');
  const release = path.join(targetDir, 'release');
  if (opts.build) {
    log('building the release libraries (cargo build --release -p ohfile-ffi -p ohfile-node)');
    must('cargo', ['build', '--release', '-p', 'ohfile-ffi', '-p', 'ohfile-node'], { cwd: repo });
  }
  // The release addon under its own name, so the debug one the tests load stays untouched.
  const nativeDir = path.join(dataDir, 'native');
  fs.mkdirSync(nativeDir, { recursive: true });
  const addon = path.join(nativeDir, 'ohfile-release.node');
  const tmp = `${addon}.${process.pid}`;
  fs.copyFileSync(path.join(release, 'libohfile_node.so'), tmp);
  fs.renameSync(tmp, addon);
  const binDir = path.join(dataDir, 'bin');
  fs.mkdirSync(binDir, { recursive: true });
  const cClone = path.join(binDir, 'c_clone');
  must('cc', ['-O2', '-std=c99', '-Wall', '-Wextra', '-Werror', `-I${path.join(repo, 'include')}`, path.join(benchDir, 'c_clone.c'), path.join(release, 'libohfile.a'), '-lpthread', '-ldl', '-lm', '-o', cClone]);
  return { addon, cClone };
}

// ------------------------------------------------------------------ trees and checks

/** {rel → {size, mode, mtime (whole seconds)}} of the regular files under `dir`. */
function manifest(dir) {
  const out = new Map();
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else {
        const st = fs.lstatSync(path.join(dir, r));
        out.set(r, { type: e.isFile() ? 'file' : 'other', size: st.size, mode: st.mode & 0o7777, mtime: Math.floor(st.mtimeMs / 1000) });
      }
    }
  };
  walk('');
  return out;
}

function sha256(file) {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(4 * MiB);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** What a restore must reproduce: the source's manifest and hashes of a sample of its files. */
function expectation(filesDir) {
  const files = manifest(filesDir);
  const names = [...files.keys()].sort();
  // Every 97th file, and every file over 1 MiB (the ones that travel on their own fd).
  const sample = names.filter((n, i) => i % 97 === 0 || files.get(n).size > MiB);
  const hashes = new Map(sample.map((n) => [n, sha256(path.join(filesDir, n))]));
  let bytes = 0;
  for (const f of files.values()) bytes += f.size;
  return { files, hashes, bytes };
}

/** Compares a restored folder with the source; returns a list of problems (empty when equal). */
function verify(expected, restoredDir) {
  if (!fs.existsSync(restoredDir)) return [`${restoredDir} does not exist`];
  const got = manifest(restoredDir);
  const problems = [];
  for (const [rel, want] of expected.files) {
    const have = got.get(rel);
    if (!have) problems.push(`missing ${rel}`);
    else if (have.type !== 'file' || have.size !== want.size || have.mode !== want.mode || have.mtime !== want.mtime) {
      problems.push(`${rel}: ${JSON.stringify(have)} instead of ${JSON.stringify(want)}`);
    }
    if (problems.length > 10) break;
  }
  for (const rel of got.keys()) if (!expected.files.has(rel) && problems.length <= 10) problems.push(`extra ${rel}`);
  if (problems.length) return problems;
  for (const [rel, hash] of expected.hashes) {
    if (sha256(path.join(restoredDir, rel)) !== hash) problems.push(`${rel}: content differs`);
  }
  if (opts.quick && !problems.length) {
    const d = run('diff', ['-r', '-q', expected.dir, restoredDir]);
    if (d.status !== 0) problems.push(`diff -r: ${(d.stdout + d.stderr).trim().split('\n').slice(0, 5).join('; ')}`);
  }
  return problems;
}

// On ext4 without a journal (this VM's root), creating a file skips every free inode of its block
// group that was deleted less than 60 s ago (360 s while its inode-table block is still dirty),
// one buffer-cache lookup each (`recently_deleted` in fs/ext4/ialloc.c). Right after an `rm -rf`
// of 5,000 files, `tar -x` of 5,000 files spent 1.3–4 s in the kernel instead of 0.1–0.3 s. So
// nothing is deleted between timed runs: every run writes a new folder, a dataset's outputs are
// removed (and synced) once its runs are over, and the next timed run waits out the 60 s
// (`quiesce`). The time of the last deletion is kept in bench/data/.last-delete so that a run
// started right after another one waits too. Deletions by other programs on the same disk are
// not seen: run the full bench on a quiet machine.
const RECENTLY_DELETED_MS = 61_000;
const lastDeleteFile = path.join(dataDir, '.last-delete');
let lastDelete = 0;
try {
  lastDelete = Number(fs.readFileSync(lastDeleteFile, 'utf8')) || 0;
} catch {
  /* no earlier run */
}

function deleted() {
  lastDelete = Date.now();
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(lastDeleteFile, String(lastDelete));
}

function remove(dir) {
  if (fs.existsSync(dir)) {
    fs.rmSync(dir, { recursive: true, force: true });
    spawnSync('sync'); // clean inode-table blocks: the 60 s window, not 360 s
    deleted();
  }
}

function quiesce() {
  const wait = lastDelete + RECENTLY_DELETED_MS - Date.now();
  if (wait > 0) {
    log(`  waiting ${Math.ceil(wait / 1000)} s after deleting old outputs (ext4 slows file creation right after deletions)`);
    spawnSync('sleep', [String(wait / 1000)]);
  }
}

/** Stops when the work folder's disk cannot hold every run's output (nothing is deleted between runs). */
function checkSpace(dir, need) {
  const st = fs.statfsSync(dir);
  const free = st.bavail * st.bsize;
  if (free < need) {
    console.error(`bench: ${dir} has ${(free / 2 ** 30).toFixed(1)} GiB free; this dataset needs about ${(need / 2 ** 30).toFixed(1)} GiB (every run keeps its output until the dataset is done)`);
    process.exit(1);
  }
}

/** Flushes dirty pages so every timed run starts with no writeback pending from the last one. */
function settle() {
  spawnSync('sync');
}

/** Reads every byte of the tree once (tar into a pipe: tar skips reading when writing /dev/null). */
function warmUp(dir) {
  const r = run('sh', ['-c', 'tar -cf - -C "$1" . | cat > /dev/null', 'sh', dir]);
  if (r.status !== 0) failures.push(`warm-up read of ${dir} failed`);
}

// ------------------------------------------------------------------ contestants

function timeExternal(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = run(cmd, args);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { r, seconds };
}

/** Runs a client that prints one JSON line; returns its fields plus {ok, error?}. */
function runClient(cmd, args, env) {
  const t0 = process.hrtime.bigint();
  const r = run(cmd, args, { env: { ...process.env, ...env } });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  let out = null;
  try {
    out = JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    /* reported below */
  }
  const ok = r.status === 0 && out && out.errors !== undefined ? out.errors === 0 : r.status === 0 && out !== null && out.ok !== false;
  const error = ok ? undefined : `${cmd} ${args.join(' ')}: ${r.error ? r.error.message : `status ${r.status}`} ${r.stderr.trim().slice(-2000)}`;
  return { ...(out || {}), processSeconds: wall, ok, error };
}

// ------------------------------------------------------------------ one dataset

function benchDataset(name, tools, idle) {
  const ds = ensureDataset(dataDir, opts.quick, name, log);
  if (ds.replaced) deleted();
  const work = path.join(opts.work, mode, name);
  remove(work); // left over from an interrupted or --keep run
  fs.mkdirSync(work, { recursive: true });
  checkSpace(work, ds.bytes * opts.runs * 6 * 1.1);
  log(`\n${name}: ${ds.count} files, ${(ds.bytes / MiB).toFixed(1)} MiB (${ds.files})`);
  log('  warm-up read of the tree (page cache warm for every contestant)');
  warmUp(ds.sandbox);
  const expected = { ...expectation(ds.files), dir: ds.files };
  if (expected.files.size !== ds.count || expected.bytes !== ds.bytes) {
    failures.push(`${name}: the dataset on disk has ${expected.files.size} files / ${expected.bytes} bytes, the spec ${ds.count} / ${ds.bytes}; delete ${path.dirname(ds.root)}`);
    return null;
  }

  // A new folder for every run (see `remove`); restores read the last backup of their contestant.
  const runDir = (what, round) => path.join(work, `${what}.${round}`);
  const last = { tar: null, node: null, c: null };
  const nodeEnv = { OHFILE_NATIVE: tools.addon };
  const nodeClient = path.join(benchDir, 'node_client.cjs');
  const results = { backup: { tar: [], node: [], c: [] }, restore: { tar: [], node: [], c: [] } };
  const broken = new Set(); // contestants whose backup failed: their restore cannot run

  const backup = {
    tar: (round) => {
      const dir = runDir('backup-tar', round);
      fs.mkdirSync(dir, { recursive: true });
      const archive = path.join(dir, 'archive.tar');
      settle();
      const { r, seconds } = timeExternal('tar', ['-cf', archive, '-C', ds.sandbox, '.']);
      last.tar = archive;
      return { seconds, ok: r.status === 0, error: r.status === 0 ? undefined : `tar -c: ${r.stderr}` };
    },
    node: (round) => {
      const dir = runDir('backup-node', round);
      settle();
      last.node = dir;
      return runClient(process.execPath, [nodeClient, 'backup', ds.root, dir], nodeEnv);
    },
    c: (round) => {
      const dir = runDir('backup-c', round);
      settle();
      last.c = dir;
      return runClient(tools.cClone, ['backup', ds.root, dir, BUNDLE]);
    },
  };
  const restore = {
    tar: (round) => {
      const dir = runDir('restore-tar', round);
      fs.mkdirSync(dir, { recursive: true });
      settle();
      const { r, seconds } = timeExternal('tar', ['-xf', last.tar, '-C', dir]);
      return { seconds, ok: r.status === 0, error: r.status === 0 ? undefined : `tar -x: ${r.stderr}`, restored: path.join(dir, FILES_DIR) };
    },
    node: (round) => {
      const root = runDir('restore-node', round);
      installApp(root);
      settle();
      const res = runClient(process.execPath, [nodeClient, 'restore', root, last.node], nodeEnv);
      return { ...res, restored: path.join(root, 'apps', BUNDLE, 'sandbox', FILES_DIR) };
    },
    c: (round) => {
      const root = runDir('restore-c', round);
      installApp(root);
      settle();
      const res = runClient(tools.cClone, ['restore', root, last.c, BUNDLE]);
      return { ...res, restored: path.join(root, 'apps', BUNDLE, 'sandbox', FILES_DIR) };
    },
  };

  quiesce();
  for (const [op, table] of [['backup', backup], ['restore', restore]]) {
    const order = ['tar', 'node', 'c'];
    for (let round = 0; round < opts.runs; round++) {
      // Rotate who goes first, so no contestant always runs right after the same one.
      const turn = order.map((_, i) => order[(i + round) % order.length]);
      for (const who of turn) {
        if (broken.has(who)) continue;
        const res = table[who](round + 1);
        if (res.ok && op === 'restore') {
          const problems = verify(expected, res.restored);
          if (problems.length) {
            res.ok = false;
            res.error = `restore differs from the source: ${problems.slice(0, 5).join('; ')}`;
          }
        }
        results[op][who].push(res);
        const extra = res.maxRssKiB ? `, peak RSS ${(res.maxRssKiB / 1024).toFixed(1)} MiB, max fds ${res.maxFds}` : '';
        log(`  ${op.padEnd(7)} ${who.padEnd(4)} run ${round + 1}/${opts.runs}: ${res.ok ? `${res.seconds.toFixed(3)} s${extra}${op === 'restore' ? ', verified' : ''}` : `FAILED: ${res.error}`}`);
        if (!res.ok) {
          failures.push(`${name} ${op} ${who}: ${res.error}`);
          if (op === 'backup') broken.add(who);
        }
      }
    }
  }
  if (!opts.keep) remove(work);
  return summarize(ds, results, idle);
}

function summarize(ds, results, idle) {
  const rssTarget = TARGET.rssBase + TARGET.rssPerFile * ds.count;
  const rows = [];
  for (const op of ['backup', 'restore']) {
    const best = (runs) => {
      const ok = runs.filter((r) => r.ok);
      return ok.length === runs.length && ok.length ? Math.min(...ok.map((r) => r.seconds)) : null;
    };
    const maxOf = (runs, f) => (runs.length ? Math.max(...runs.map(f)) : null);
    const tar = best(results[op].tar);
    const node = best(results[op].node);
    const c = best(results[op].c);
    const target = TARGET[op];
    const ratio = (x) => (x !== null && tar ? x / tar : null);
    const nodeRss = maxOf(results[op].node, (r) => (r.maxRssKiB || 0) * 1024 - idle.rssBytes);
    const cRss = maxOf(results[op].c, (r) => (r.maxRssKiB || 0) * 1024);
    rows.push({
      dataset: ds.name,
      files: ds.count,
      bytes: ds.bytes,
      operation: op,
      seconds: { tar, node, c },
      ratio: { node: ratio(node), c: ratio(c) },
      ratioTarget: target,
      meetsRatio: { node: ratio(node) !== null && ratio(node) <= target, c: ratio(c) !== null && ratio(c) <= target },
      peakRssBytes: { node: nodeRss, c: cRss },
      rssTargetBytes: rssTarget,
      meetsRss: { node: nodeRss !== null && nodeRss <= rssTarget, c: cRss !== null && cRss <= rssTarget },
      maxFds: { node: maxOf(results[op].node, (r) => r.maxFds || 0), c: maxOf(results[op].c, (r) => r.maxFds || 0) },
      fdTarget: TARGET.fds,
      runs: results[op],
    });
  }
  return rows;
}

// ------------------------------------------------------------------ report

function table(rows, idle) {
  const s = (x) => (x === null ? 'failed' : x.toFixed(3));
  const r = (x, target) => (x === null ? '-' : `${x.toFixed(2)}x${x <= target ? '' : ' MISS'}`);
  const mib = (x, target) => (x === null ? '-' : `${(x / MiB).toFixed(1)}${x <= target ? '' : ' MISS'}`);
  const fd = (x) => (x === null ? '-' : `${x}${x <= TARGET.fds ? '' : ' MISS'}`);
  const header = ['dataset', 'op', 'tar s', 'Node s', 'C s', 'Node/tar', 'C/tar', 'target', 'RSS Node MiB', 'RSS C MiB', 'RSS target', 'fds Node', 'fds C'];
  const lines = rows.map((x) => [
    `${x.dataset} (${x.files})`,
    x.operation,
    s(x.seconds.tar),
    s(x.seconds.node),
    s(x.seconds.c),
    r(x.ratio.node, x.ratioTarget),
    r(x.ratio.c, x.ratioTarget),
    `<= ${x.ratioTarget}x`,
    mib(x.peakRssBytes.node, x.rssTargetBytes),
    mib(x.peakRssBytes.c, x.rssTargetBytes),
    (x.rssTargetBytes / MiB).toFixed(1),
    fd(x.maxFds.node),
    fd(x.maxFds.c),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [
    fmt(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...lines.map(fmt),
    '',
    `Seconds: best of ${opts.runs} wall-clock runs, page cache warm (the tree was read once before timing; outputs flushed with sync before each run).`,
    'tar = GNU tar -cf/-xf (process wall time); Node = tools.backupToDir/restoreFromDir (the call); C = bench/c_clone.c (device open to session end).',
    `RSS: C = ru_maxrss of the process (service + client); Node = maxRSS minus an idle Node process with the addon loaded (${(idle.rssBytes / MiB).toFixed(1)} MiB, ${idle.fds} fds).`,
    'RSS target = 16 MiB + 200 B x files. fds: most open at once in the process (Node: raw count, idle included), target <= 64.',
  ].join('\n');
}

function idleNode(addon) {
  const samples = [];
  for (let i = 0; i < 3; i++) {
    const res = runClient(process.execPath, [path.join(benchDir, 'node_client.cjs'), 'idle'], { OHFILE_NATIVE: addon });
    if (!res.ok || !res.maxRssKiB) {
      failures.push(`idle Node baseline: ${res.error}`);
      return { rssBytes: 0, fds: 0 };
    }
    samples.push(res);
  }
  // The smallest idle footprint: what is subtracted is never more than Node's own share.
  return { rssBytes: Math.min(...samples.map((x) => x.maxRssKiB)) * 1024, fds: Math.min(...samples.map((x) => x.maxFds)) };
}

function main() {
  const started = Date.now();
  log(`ohfile bench (${mode}${opts.quick ? '' : '; --quick for a short run'}), ${opts.runs} runs each, datasets ${opts.only.join(', ')}`);
  const tools = build();
  const idle = idleNode(tools.addon);
  log(`idle Node with the addon loaded: ${(idle.rssBytes / MiB).toFixed(1)} MiB RSS, ${idle.fds} fds`);
  const rows = [];
  for (const name of opts.only) {
    if (!['S', 'M'].includes(name)) {
      console.error(`bench: unknown dataset ${name}`);
      process.exit(2);
    }
    const r = benchDataset(name, tools, idle);
    if (r) rows.push(...r);
  }
  const text = table(rows, idle);
  log(`\n${text}`);
  const tarVersion = run('tar', ['--version']).stdout.split('\n')[0];
  const results = {
    date: new Date().toISOString(),
    mode,
    runs: opts.runs,
    cacheWarm: true,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memBytes: os.totalmem(), kernel: os.release(), node: process.version, tar: tarVersion, workDir: opts.work },
    targets: TARGET,
    idleNode: idle,
    rows,
    failures,
    seconds: (Date.now() - started) / 1000,
  };
  fs.writeFileSync(path.join(benchDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  log(`\nwritten bench/results.json; whole run ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (failures.length) {
    log(`\n${failures.length} FAILURE(S):\n${failures.map((f) => `  - ${f}`).join('\n')}`);
    process.exit(1);
  }
}

main();
