#!/usr/bin/env node
// The backup/restore benchmark: `npm run bench` (full sizes) or `npm run bench -- --quick`.
//
// One run builds the release libraries, makes (or reuses) the datasets in bench/data/, and times,
// on the same trees, on the same filesystem and in the same run, GNU tar (the baseline) against
// ohfile through its public Node API and its public C API. It reports best-of-N wall times as
// ratios to tar, plus peak RSS and the most fds open at once, and checks every restore against
// the source; a failed run or a wrong restore makes the exit status non-zero. See bench/README.md.
//
// The cloud-sync part (`sync`: FileSync and CloudFileCache against rclone and cp) is cloudsync.mjs;
// the asset part (`asset`: add, query and remove against plain SQLite) is asset.mjs.
//
// Options: --quick (small trees), --runs N (default 3), --only S,M,sync,asset, --no-build (use what is in
// target/release), --work DIR (where the timed runs happen; default /dev/shm/ohfile-bench, a
// tmpfs, else bench/data/work), --keep (leave the work folder in place).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE, FILES_DIR, ensureDataset, installApp } from './datasets.mjs';
import { benchIncremental } from './incremental.mjs';
import { benchCloudSync } from './cloudsync.mjs';
import { benchAsset } from './asset.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(benchDir, '..');
const dataDir = path.join(benchDir, 'data');
const MiB = 1024 * 1024;
const TMPFS_MAGIC = 0x01021994;

// Targets (shared/reference/perf-reliability-anchors.md §6: B1, B7, B9, B10).
const TARGET = { backup: 1.25, restore: 1.3, rssBase: 16 * MiB, rssPerFile: 200, fds: 64 };
const RUN_TIMEOUT_MS = 10 * 60 * 1000;

function parseArgs(argv) {
  const o = { quick: false, runs: 3, only: ['S', 'M', 'SYNC', 'ASSET'], build: true, work: null, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--runs') o.runs = Math.max(1, Number.parseInt(argv[++i], 10) || 3);
    else if (a === '--only') o.only = String(argv[++i]).split(',').map((s) => s.trim().toUpperCase());
    else if (a === '--no-build') o.build = false;
    else if (a === '--work') o.work = path.resolve(argv[++i]);
    else if (a === '--keep') o.keep = true;
    else if (a === '-h' || a === '--help') {
      console.log('usage: node bench/run.mjs [--quick] [--runs N] [--only S,M,sync,asset] [--no-build] [--work DIR] [--keep]');
      process.exit(0);
    } else {
      console.error(`bench: unknown option ${a}`);
      process.exit(2);
    }
  }
  for (const name of o.only) {
    if (!['S', 'M', 'SYNC', 'ASSET'].includes(name)) {
      console.error(`bench: unknown dataset ${name} (S, M, sync or asset)`);
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
  // The release addon under its own name (loaded through OHFILE_NATIVE), so the debug addon in
  // node-binding/native/ that the tests load is left alone.
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

// ------------------------------------------------------------------ the work folder

// Every contestant reads its source from, and writes its output to, one filesystem: by default a
// tmpfs (the anchors' method for CPU targets: no writeback noise, page cache warm by
// construction), with the dataset copied there (untimed).
//
// On another filesystem (--work on ext4) two more things matter. Outputs are synced before each
// run, so no run pays for the last one's writeback. And on ext4 without a journal (this VM's
// root), creating a file skips every free inode of its block group deleted less than 60 s ago —
// 360 s while that inode-table block is dirty, which creating files makes it — with one
// buffer-cache lookup each (`recently_deleted` in fs/ext4/ialloc.c): right after an `rm -rf` of
// 5,000 files, `tar -x` of 5,000 files spent 1.3–4 s in the kernel instead of 0.1–0.3 s, even
// after a 60 s pause. So there nothing is deleted until the whole bench is over, and a bench
// started less than 6 minutes after the last one deleted its outputs waits (bench/data/.last-delete).
// Deletions by other programs on that disk are not seen: run it on a quiet machine.
const RECENTLY_DELETED_MS = 361_000;
const lastDeleteFile = path.join(dataDir, '.last-delete');

function defaultWork() {
  try {
    if (fs.statfsSync('/dev/shm').type === TMPFS_MAGIC) return '/dev/shm/ohfile-bench';
  } catch {
    /* no /dev/shm */
  }
  return path.join(dataDir, 'work');
}

const work = opts.work || defaultWork();
fs.mkdirSync(work, { recursive: true });
const onTmpfs = fs.statfsSync(work).type === TMPFS_MAGIC;
const later = []; // outputs kept until the end (not on tmpfs)

/** Deletes an output now (tmpfs) or at the end of the bench (anywhere else; see above). */
function discard(dir) {
  if (opts.keep) return;
  if (onTmpfs) fs.rmSync(dir, { recursive: true, force: true });
  else later.push(dir);
}

function cleanUp() {
  if (opts.keep) return;
  const dirs = onTmpfs ? [path.join(work, mode)] : [...later, path.join(work, mode)];
  const any = dirs.some((d) => fs.existsSync(d));
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  try {
    fs.rmdirSync(work); // only when empty
  } catch {
    /* not empty, or someone else's */
  }
  if (any && !onTmpfs) {
    spawnSync('sync');
    fs.writeFileSync(lastDeleteFile, String(Date.now()));
  }
}

function quiesce() {
  if (onTmpfs) return;
  let last = 0;
  try {
    last = Number(fs.readFileSync(lastDeleteFile, 'utf8')) || 0;
  } catch {
    /* no earlier run */
  }
  const wait = last + RECENTLY_DELETED_MS - Date.now();
  if (wait > 0) {
    log(`  waiting ${Math.ceil(wait / 1000)} s: the last bench deleted its outputs on this disk, and ext4 creates files slowly for minutes after deletions`);
    spawnSync('sleep', [String(wait / 1000)]);
  }
}

/** Stops when the work folder cannot hold what a dataset's runs keep at once. */
function checkSpace(need) {
  const st = fs.statfsSync(work);
  const free = st.bavail * st.bsize;
  if (free < need) {
    console.error(`bench: ${work} has ${(free / 2 ** 30).toFixed(1)} GiB free; this dataset needs about ${(need / 2 ** 30).toFixed(1)} GiB there (choose another place with --work DIR)`);
    process.exit(1);
  }
}

/** Flushes dirty pages so that no timed run pays for earlier writes' writeback. */
function settle() {
  spawnSync('sync');
}

// ------------------------------------------------------------------ trees and checks

/** {rel → {type, size, mode, mtime (whole seconds: tar keeps no more)}} of the files under `dir`. */
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
  // Every 97th file, and every file over 1 MiB (the big ones travel on their own fds).
  const sample = names.filter((n, i) => i % 97 === 0 || files.get(n).size > MiB);
  const hashes = new Map(sample.map((n) => [n, sha256(path.join(filesDir, n))]));
  let bytes = 0;
  for (const f of files.values()) bytes += f.size;
  return { dir: filesDir, files, hashes, bytes };
}

/** Compares a restored folder with the source; returns the problems found (none when equal). */
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
    if (problems.length > 10) return problems;
  }
  for (const rel of got.keys()) {
    if (!expected.files.has(rel)) problems.push(`extra ${rel}`);
    if (problems.length > 10) return problems;
  }
  if (problems.length) return problems;
  for (const [rel, hash] of expected.hashes) {
    if (sha256(path.join(restoredDir, rel)) !== hash) problems.push(`${rel}: content differs`);
  }
  if (opts.quick && !problems.length) {
    // Small trees: every byte.
    const d = run('diff', ['-r', '-q', expected.dir, restoredDir]);
    if (d.status !== 0) problems.push(`diff -r: ${(d.stdout + d.stderr).trim().split('\n').slice(0, 5).join('; ')}`);
  }
  return problems;
}

/** Reads every byte of the tree once (tar into a pipe: tar skips reading when writing /dev/null). */
function warmUp(dir) {
  const r = run('sh', ['-c', 'tar -cf - -C "$1" . | cat > /dev/null', 'sh', dir]);
  if (r.status !== 0) failures.push(`warm-up read of ${dir} failed: ${r.stderr}`);
}

// ------------------------------------------------------------------ contestants

const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

/** Runs tar; its time is the process's wall time, its CPU time (when /usr/bin/time exists) user + system. */
function runTar(args) {
  const stats = path.join(work, mode, '.tar-cpu');
  const [cmd, argv] = TIME ? [TIME, ['-f', '%U %S', '-o', stats, 'tar', ...args]] : ['tar', args];
  const t0 = process.hrtime.bigint();
  const r = run(cmd, argv);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let cpuSeconds;
  if (TIME && r.status === 0) {
    const [u, sys] = fs.readFileSync(stats, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    cpuSeconds = u + sys;
  }
  return { seconds, cpuSeconds, ok: r.status === 0, error: r.status === 0 ? undefined : `tar ${args.join(' ')}: ${r.error ? r.error.message : r.stderr}` };
}

/** Runs a client that prints one JSON line (seconds, maxRssKiB, maxFds, …). */
function runClient(cmd, args, env) {
  const t0 = process.hrtime.bigint();
  const r = run(cmd, args, { env: { ...process.env, ...env } });
  const processSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let out = null;
  try {
    out = JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    /* reported below */
  }
  const ok = r.status === 0 && out !== null && out.ok !== false && (out.errors === undefined || out.errors === 0);
  const error = ok ? undefined : `${path.basename(cmd)} ${args.join(' ')}: ${r.error ? r.error.message : `status ${r.status}`} ${(r.stderr || '').trim().slice(-2000)}`;
  return { ...(out || {}), processSeconds, ok, error };
}

// ------------------------------------------------------------------ one dataset

/** The dataset's device root in the work folder: the dataset itself on its own disk, else a copy. */
function sourceRoot(ds, base) {
  if (fs.statSync(ds.root).dev === fs.statSync(work).dev) return ds.root;
  const root = path.join(base, 'source');
  log(`  copying it to ${root} (untimed: sources and outputs share one filesystem)`);
  fs.mkdirSync(base, { recursive: true });
  const r = run('cp', ['-a', ds.root, root]);
  if (r.status !== 0) {
    console.error(`bench: cp -a ${ds.root} ${root}: ${r.stderr}`);
    process.exit(1);
  }
  return root;
}

function benchDataset(name, tools, idle) {
  const ds = ensureDataset(dataDir, opts.quick, name, log);
  const base = path.join(work, mode, name);
  log(`\n${name}: ${ds.count} files, ${(ds.bytes / MiB).toFixed(1)} MiB`);
  if (fs.existsSync(base)) {
    // An interrupted or --keep run's outputs: on disk, the deletion counts (see `quiesce`).
    fs.rmSync(base, { recursive: true, force: true });
    if (!onTmpfs) fs.writeFileSync(lastDeleteFile, String(Date.now()));
  }
  // Source, the last backup of each contestant, a backup and a restore in flight (all kept on disk).
  checkSpace(ds.bytes * (onTmpfs ? 6 : 1 + 6 * opts.runs) * 1.1);
  const root = sourceRoot(ds, base);
  const sandbox = path.join(root, 'apps', BUNDLE, 'sandbox');
  log('  warm-up read of the tree (page cache warm for every contestant)');
  warmUp(sandbox);
  const expected = expectation(path.join(sandbox, FILES_DIR));
  if (expected.files.size !== ds.count || expected.bytes !== ds.bytes) {
    failures.push(`${name}: the tree has ${expected.files.size} files / ${expected.bytes} bytes, the spec ${ds.count} / ${ds.bytes}; delete ${ds.base}`);
    return [];
  }

  const runDir = (what, round) => path.join(base, `${what}.${round}`);
  const lastBackup = { tar: null, node: null, c: null };
  const keepBackup = (who, dir) => {
    if (lastBackup[who]) discard(lastBackup[who]);
    lastBackup[who] = dir;
  };
  const nodeEnv = { OHFILE_NATIVE: tools.addon };
  const nodeClient = path.join(benchDir, 'node_client.cjs');
  const results = { backup: { tar: [], node: [], c: [] }, restore: { tar: [], node: [], c: [] } };
  const broken = new Set(); // contestants whose backup failed: their restore cannot run

  const backup = {
    tar: (round) => {
      const dir = runDir('backup-tar', round);
      fs.mkdirSync(dir, { recursive: true });
      settle();
      const res = runTar(['-cf', path.join(dir, 'archive.tar'), '-C', sandbox, '.']);
      keepBackup('tar', dir);
      return res;
    },
    node: (round) => {
      const dir = runDir('backup-node', round);
      settle();
      const res = runClient(process.execPath, [nodeClient, 'backup', root, dir], { ...nodeEnv, OHFILE_BENCH_BUNDLE: BUNDLE });
      keepBackup('node', dir);
      return res;
    },
    c: (round) => {
      const dir = runDir('backup-c', round);
      settle();
      const res = runClient(tools.cClone, ['backup', root, dir, BUNDLE]);
      keepBackup('c', dir);
      return res;
    },
  };
  const restore = {
    tar: (round) => {
      const dir = runDir('restore-tar', round);
      fs.mkdirSync(dir, { recursive: true });
      settle();
      return { ...runTar(['-xf', path.join(lastBackup.tar, 'archive.tar'), '-C', dir]), restored: path.join(dir, FILES_DIR), dir };
    },
    // ohfile restores into a fresh device root with the app installed and an empty sandbox.
    node: (round) => {
      const dir = runDir('restore-node', round);
      installApp(dir);
      settle();
      const res = runClient(process.execPath, [nodeClient, 'restore', dir, lastBackup.node], nodeEnv);
      return { ...res, restored: path.join(dir, 'apps', BUNDLE, 'sandbox', FILES_DIR), dir };
    },
    c: (round) => {
      const dir = runDir('restore-c', round);
      installApp(dir);
      settle();
      const res = runClient(tools.cClone, ['restore', dir, lastBackup.c, BUNDLE]);
      return { ...res, restored: path.join(dir, 'apps', BUNDLE, 'sandbox', FILES_DIR), dir };
    },
  };

  quiesce();
  for (const [op, table] of [['backup', backup], ['restore', restore]]) {
    const order = ['tar', 'node', 'c'];
    for (let round = 0; round < opts.runs; round++) {
      // Rotate who goes first, so that no contestant always runs right after the same one.
      const turn = order.map((_, i) => order[(i + round) % order.length]);
      for (const who of turn) {
        if (broken.has(who)) continue;
        const res = table[who](round + 1);
        if (res.ok && op === 'restore') {
          const problems = verify(expected, res.restored);
          if (problems.length) {
            res.ok = false;
            res.error = `the restore differs from the source: ${problems.slice(0, 5).join('; ')}`;
          }
        }
        if (op === 'restore') discard(res.dir);
        results[op][who].push(res);
        const caps = res.capabilitiesSeconds ? `, of which getLocalCapabilities ${res.capabilitiesSeconds.toFixed(3)} s` : '';
        const cpu = res.cpuSeconds !== undefined ? ` (CPU ${res.cpuSeconds.toFixed(3)} s${caps})` : '';
        const extra = res.maxRssKiB ? `, peak RSS ${(res.maxRssKiB / 1024).toFixed(1)} MiB, max fds ${res.maxFds}` : '';
        log(`  ${op.padEnd(7)} ${who.padEnd(4)} run ${round + 1}/${opts.runs}: ${res.ok ? `${res.seconds.toFixed(3)} s${cpu}${extra}${op === 'restore' ? ', verified' : ''}` : `FAILED: ${res.error}`}`);
        if (!res.ok) {
          failures.push(`${name} ${op} ${who}: ${res.error}`);
          if (op === 'backup') broken.add(who);
        }
      }
    }
  }
  for (const dir of Object.values(lastBackup)) if (dir) discard(dir);
  const rows = summarize(ds, results, idle);
  if (name === 'S' && !broken.has('node')) {
    // Last, because it rewrites files of the tree (in the work copy).
    const best = results.backup.node.filter((r) => r.ok).sort((a, b) => a.seconds - b.seconds)[0];
    const inc = benchIncremental({
      root, sandbox, filesDir: path.join(sandbox, FILES_DIR), base, bundle: BUNDLE, runs: opts.runs, expected,
      nodeClient, nodeEnv, runClient, runTar, log, discard, fullBackupSeconds: best && best.seconds, idle, targets: TARGET,
    });
    if (inc.error || inc.rows.some((r) => r.errors.length)) failures.push(`S incremental: ${inc.error || inc.rows.flatMap((r) => r.errors)[0]}`);
    incrementalResult = inc;
  }
  if (root !== ds.root) discard(root);
  return rows;
}

let incrementalResult = null;

function summarize(ds, results, idle) {
  const rssTarget = TARGET.rssBase + TARGET.rssPerFile * ds.count;
  const rows = [];
  for (const op of ['backup', 'restore']) {
    // Best of the runs; null when any run failed (a failure is never hidden by a good run).
    const best = (runs) => (runs.length && runs.every((r) => r.ok) ? Math.min(...runs.map((r) => r.seconds)) : null);
    const worst = (runs, f) => (runs.length ? Math.max(...runs.map(f)) : null);
    const tar = best(results[op].tar);
    const node = best(results[op].node);
    const c = best(results[op].c);
    const ratio = (x) => (x !== null && tar ? x / tar : null);
    // CPU (user + system) of the fastest run of each, as a ratio too (B1 also bounds it).
    const cpuOfBest = (runs, t) => (t === null ? null : (runs.find((r) => r.seconds === t)?.cpuSeconds ?? null));
    const cpu = { tar: cpuOfBest(results[op].tar, tar), node: cpuOfBest(results[op].node, node), c: cpuOfBest(results[op].c, c) };
    const cpuRatio = (x) => (x !== null && cpu.tar ? x / cpu.tar : null);
    const nodeRss = worst(results[op].node, (r) => (r.maxRssKiB || 0) * 1024 - idle.rssBytes);
    const cRss = worst(results[op].c, (r) => (r.maxRssKiB || 0) * 1024);
    rows.push({
      dataset: ds.name,
      files: ds.count,
      bytes: ds.bytes,
      operation: op,
      seconds: { tar, node, c },
      ratio: { node: ratio(node), c: ratio(c) },
      cpuSeconds: cpu,
      cpuRatio: { node: cpuRatio(cpu.node), c: cpuRatio(cpu.c) },
      ratioTarget: TARGET[op],
      meetsRatio: { node: ratio(node) !== null && ratio(node) <= TARGET[op], c: ratio(c) !== null && ratio(c) <= TARGET[op] },
      peakRssBytes: { node: nodeRss, c: cRss },
      rssTargetBytes: rssTarget,
      meetsRss: { node: nodeRss !== null && nodeRss <= rssTarget, c: cRss !== null && cRss <= rssTarget },
      maxFds: { node: worst(results[op].node, (r) => r.maxFds || 0), c: worst(results[op].c, (r) => r.maxFds || 0) },
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
    `${x.dataset} (${x.files} files)`,
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
    `Seconds: best of ${opts.runs} wall-clock runs; page cache warm (the tree was read once before timing); sources and outputs on ${onTmpfs ? 'tmpfs' : 'disk'} (${work}).`,
    'tar = GNU tar -cf/-xf (process wall time); Node = tools.backupToDir / restoreFromDir (the call); C = bench/c_clone.c (device open to session end).',
    `Peak RSS (VmHWM): C = the whole process (service + client); Node = minus an idle Node process with the addon loaded (${(idle.rssBytes / MiB).toFixed(1)} MiB). Target 16 MiB + 200 B x files.`,
    `fds: the most open at once in the process (Node's count includes its own ${idle.fds} at idle); target <= ${TARGET.fds}.`,
  ].join('\n');
}

function idleNode(addon) {
  const samples = [];
  for (let i = 0; i < 3; i++) {
    const res = runClient(process.execPath, [path.join(benchDir, 'node_client.cjs'), 'idle'], { OHFILE_NATIVE: addon });
    if (!res.ok || !(res.maxRssKiB > 0)) {
      failures.push(`idle Node baseline: ${res.error || 'no VmHWM'}`);
      return { rssBytes: 0, fds: 0 };
    }
    samples.push(res);
  }
  // The smallest idle footprint: what is subtracted is never more than Node's own share.
  return { rssBytes: Math.min(...samples.map((x) => x.maxRssKiB)) * 1024, fds: Math.min(...samples.map((x) => x.maxFds)) };
}

function main() {
  const started = Date.now();
  const datasets = opts.only.filter((n) => n !== 'SYNC' && n !== 'ASSET');
  log(`ohfile bench: ${mode} ${opts.only.join(', ')}, best of ${opts.runs} runs, in ${work} (${onTmpfs ? 'tmpfs' : 'not tmpfs'})`);
  const rows = [];
  let idle = null;
  let cloudSync = null;
  let assetResult = null;
  try {
    if (datasets.length) {
      const tools = build();
      idle = idleNode(tools.addon);
      log(`idle Node with the release addon loaded: ${(idle.rssBytes / MiB).toFixed(1)} MiB RSS, ${idle.fds} fds`);
      for (const name of datasets) rows.push(...benchDataset(name, tools, idle));
    }
    if (opts.only.includes('SYNC')) {
      // build() above already built the release C library.
      cloudSync = benchCloudSync({ quick: opts.quick, runs: opts.runs, build: opts.build && !datasets.length, work: path.join(work, mode, 'sync'), onTmpfs, repo, benchDir, dataDir, log, failures, discard });
      cloudSync = { date: new Date().toISOString(), mode, ...cloudSync };
    }
    if (opts.only.includes('ASSET')) {
      assetResult = benchAsset({ quick: opts.quick, runs: opts.runs, build: opts.build, work: path.join(work, mode, 'asset'), repo, dataDir, log, failures });
    }
  } finally {
    cleanUp();
  }
  if (datasets.length) log(`\n${table(rows, idle)}`);
  if (cloudSync && cloudSync.table) log(`\ncloud sync (${mode}):\n${cloudSync.table}`);
  if (assetResult) log(`\nasset store (${mode}):\n${assetResult.table}`);
  // Merged into the last results: a part not run this time (e.g. `--only sync`) keeps its numbers.
  const resultsFile = path.join(benchDir, 'results.json');
  let previous = {};
  try {
    previous = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  } catch {
    /* none yet */
  }
  const backupPart = datasets.length
    ? { mode, runs: opts.runs, cacheWarm: true, workDir: work, workOnTmpfs: onTmpfs, targets: TARGET, idleNode: idle, rows, incremental: incrementalResult }
    : {};
  const results = {
    ...previous,
    ...backupPart,
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memBytes: os.totalmem(),
      kernel: os.release(),
      node: process.version,
      tar: run('tar', ['--version']).stdout.split('\n')[0],
      rclone: cloudSync ? cloudSync.rclone : previous.machine?.rclone,
    },
    ...(cloudSync ? { cloudSync } : {}),
    ...(assetResult ? { asset: assetResult } : {}),
    failures,
    totalSeconds: (Date.now() - started) / 1000,
  };
  fs.writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  log(`\nwrote bench/results.json; the whole bench took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (failures.length) {
    log(`\n${failures.length} FAILURE(S):\n${failures.map((f) => `  - ${f}`).join('\n')}`);
    process.exit(1);
  }
}

main();
