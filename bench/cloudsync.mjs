// The cloud-sync part of the benchmark (`npm run bench`, or alone: `npm run bench -- --only sync`).
// Issue 5 "Speed": in one run, on the same data in the same tmpfs, ohfile's FileSync and
// CloudFileCache (through the public C API, bench/c_sync.c) against `rclone sync` local folder →
// local folder (Debian's rclone; scripts/install-rclone.sh) and `cp`:
//   1. first upload of N small files into an empty cloud   vs `rclone sync src dst` into an empty dir
//   2. a no-change sync of the same tree                    vs the same `rclone sync` again
//   3. download of one big file through CloudFileCache      vs `cp` of the same file
// Best of `runs` for each, contestants alternating; every timed result is checked (COMPLETED events,
// a pull of the upload on a second device, rclone's and the download's bytes). See bench/README.md.
import { spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const KiB = 1024;
const MiB = 1024 * KiB;
const BUNDLE = 'com.bench.sync';
const CLOUD_DIR = 'data/storage/el2/cloud';
const KEY = Buffer.from('ohfile-sync-key!'); // 16 bytes: AES-128
const EPOCH = 1_700_000_000;
const RUN_TIMEOUT_MS = 10 * 60 * 1000;

/** Targets of issue 5 "Speed" (and the anchors' C1: a no-change scan at >= 150k files/s). */
export const SYNC_TARGET = { uploadRatio: 1.0, noChangeRatio: 1.0, noChangeFilesPerSecond: 150_000, downloadSpeedRatio: 0.9 };

function sizes(quick) {
  return quick ? { files: 2_000, dirs: 20, fileSize: 4 * KiB, bigSize: 32 * MiB } : { files: 10_000, dirs: 100, fileSize: 4 * KiB, bigSize: 256 * MiB };
}

function run(cmd, args, options = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * MiB, timeout: RUN_TIMEOUT_MS, ...options });
}

/** Deterministic bytes (AES-128-CTR of zeros, one IV per file: nothing compresses or repeats). */
function content(index, size) {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(index, 0);
  iv.writeUInt32BE(0x5c10d, 4);
  return createCipheriv('aes-128-ctr', KEY, iv).update(Buffer.alloc(size));
}

/** The source tree: `files` files of `fileSize` bytes in `dirs` folders, fixed mtimes. */
function makeTree(dir, s) {
  for (let i = 0; i < s.files; i++) {
    const sub = path.join(dir, `d${String(i % s.dirs).padStart(3, '0')}`);
    if (i < s.dirs) fs.mkdirSync(sub, { recursive: true });
    const file = path.join(sub, `f${String(i).padStart(6, '0')}.dat`);
    fs.writeFileSync(file, content(i, s.fileSize));
    fs.utimesSync(file, EPOCH + i, EPOCH + i);
  }
}

function makeBig(file, size) {
  const fd = fs.openSync(file, 'w', 0o644);
  try {
    const iv = Buffer.alloc(16, 7);
    const cipher = createCipheriv('aes-128-ctr', KEY, iv);
    const zeros = Buffer.alloc(4 * MiB);
    for (let left = size; left > 0; left -= zeros.length) fs.writeSync(fd, cipher.update(zeros.subarray(0, Math.min(left, zeros.length))));
  } finally {
    fs.closeSync(fd);
  }
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

/** A device root whose cloud is `cloud` (absolute), with the bench app installed; returns the
 * app's cloud folder (created, empty). */
function makeDevice(root, cloud) {
  const folder = path.join(root, 'apps', BUNDLE, 'sandbox', CLOUD_DIR);
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(root, 'device.json'), `${JSON.stringify({ cloud })}\n`);
  fs.writeFileSync(path.join(root, 'apps', BUNDLE, 'bundle.json'), '{}\n');
  return folder;
}

/** cp -a of a tree's content into an existing folder (untimed set-up). */
function copyInto(src, dst) {
  const r = run('cp', ['-a', `${src}/.`, dst]);
  if (r.status !== 0) throw new Error(`cp -a ${src}/. ${dst}: ${r.stderr}`);
}

/**
 * Runs the cloud-sync benchmark. `ctx`: {quick, runs, build (build the release C library first),
 * work (an empty folder of its own), onTmpfs, repo, benchDir, dataDir, log, failures (pushed to),
 * discard (deletes an output now on tmpfs, later elsewhere)}. Returns the results object that
 * bench/results.json keeps under "cloudSync".
 */
export function benchCloudSync(ctx) {
  const { quick, runs, work, log, failures } = ctx;
  const s = sizes(quick);
  const started = Date.now();
  log(`\ncloud sync: ${s.files} files of ${s.fileSize / KiB} KiB, one file of ${s.bigSize / MiB} MiB, best of ${runs}, in ${work}`);

  // ---------------------------------------------------------------- tools
  const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(ctx.repo, process.env.CARGO_TARGET_DIR) : path.join(ctx.repo, 'target');
  if (ctx.build) {
    log('building the release C library (cargo build --release -p ohfile-ffi)');
    const r = run('cargo', ['build', '--release', '-p', 'ohfile-ffi'], { cwd: ctx.repo, stdio: 'inherit' });
    if (r.status !== 0) {
      failures.push('cloud sync: cargo build --release -p ohfile-ffi failed');
      return { error: 'build failed' };
    }
  }
  const binDir = path.join(ctx.dataDir, 'bin');
  fs.mkdirSync(binDir, { recursive: true });
  const cSync = path.join(binDir, 'c_sync');
  const cc = run('cc', ['-O2', '-std=c99', '-Wall', '-Wextra', '-Werror', `-I${path.join(ctx.repo, 'include')}`, path.join(ctx.benchDir, 'c_sync.c'), path.join(targetDir, 'release', 'libohfile.a'), '-lpthread', '-ldl', '-lm', '-o', cSync]);
  if (cc.status !== 0) {
    failures.push(`cloud sync: compiling bench/c_sync.c failed: ${cc.stderr}`);
    return { error: 'c_sync did not compile' };
  }
  let rcloneVersion = run('rclone', ['version']);
  if (rcloneVersion.status !== 0) {
    // Installs Debian's rclone when we are root; otherwise it says how, and the baseline is skipped.
    run('sh', [path.join(ctx.repo, 'scripts', 'install-rclone.sh')], { stdio: 'inherit' });
    rcloneVersion = run('rclone', ['version']);
  }
  const rclone = rcloneVersion.status === 0 ? rcloneVersion.stdout.split('\n')[0].trim() : null;
  if (!rclone) log('  rclone is not installed: the rclone baseline is SKIPPED (run `sh scripts/install-rclone.sh`, as root, to install Debian\'s)');
  else log(`  baseline: ${rclone} (rclone sync, default checks: size and modification time)`);

  /** Runs `argv` under `c_sync exec`: {ok, seconds (process), maxRssKiB, child: the child's own JSON line or null, error}. */
  const timed = (argv) => {
    const r = run(cSync, ['exec', ...argv]);
    const lines = (r.stdout || '').trim().split('\n').filter(Boolean);
    let exec = null;
    let child = null;
    try {
      exec = JSON.parse(lines.pop());
      if (lines.length) child = JSON.parse(lines.pop());
    } catch {
      /* reported below */
    }
    const ok = r.status === 0 && exec !== null && exec.ok && (child === null || child.ok !== false);
    return { ok, seconds: exec ? exec.seconds : null, maxRssKiB: exec ? exec.maxRssKiB : null, child, error: ok ? undefined : `${argv.join(' ')}: status ${r.status} ${(r.stderr || '').trim().slice(-1500)}` };
  };
  const ours = (args) => {
    const res = timed([cSync, ...args]);
    // Our peak RSS is the process's own VmHWM (the child's line); its in-process time from
    // ohf_device_open to idle next to the process's.
    return { ...res, innerSeconds: res.child ? res.child.seconds : null, maxRssKiB: res.child ? res.child.maxRssKiB : res.maxRssKiB };
  };
  const rcloneSync = (src, dst) => timed(['rclone', 'sync', src, dst, '--config', '/dev/null']);
  const fmtRes = (res) => (res.ok ? `${res.seconds.toFixed(3)} s${res.innerSeconds != null ? ` (in-process ${res.innerSeconds.toFixed(3)} s)` : ''}, peak RSS ${(res.maxRssKiB / 1024).toFixed(1)} MiB` : `FAILED: ${res.error}`);

  // ---------------------------------------------------------------- data
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  const tree = path.join(work, 'tree');
  const big = path.join(work, 'big.bin');
  log(`  writing the data (untimed): ${tree}, ${big}`);
  makeTree(tree, s);
  makeBig(big, s.bigSize);
  // Warm: read once (tmpfs: already in memory; elsewhere: page cache).
  run('sh', ['-c', 'tar -cf - -C "$1" . | cat > /dev/null; cat "$2" > /dev/null', 'sh', tree, big]);

  const results = { upload: { ours: [], rclone: [] }, noChange: { ours: [], rclone: [] }, download: { ours: [], cp: [] } };
  const record = (op, who, round, res) => {
    results[op][who].push(res);
    log(`  ${op.padEnd(9)} ${who.padEnd(6)} run ${round}/${runs}: ${fmtRes(res)}`);
    if (!res.ok) failures.push(`cloud sync ${op} ${who}: ${res.error}`);
  };

  // ---------------------------------------------------------------- 1. first upload
  // Each round: a fresh device whose app folder holds a copy of the tree and whose cloud is
  // empty; rclone: a fresh empty destination.
  let lastDevice = null;
  let lastRcloneDst = null;
  for (let round = 1; round <= runs; round++) {
    const turn = round % 2 ? ['ours', 'rclone'] : ['rclone', 'ours'];
    for (const who of turn) {
      if (who === 'rclone' && !rclone) continue;
      if (who === 'ours') {
        const root = path.join(work, `device.${round}`);
        copyInto(tree, makeDevice(root, path.join(work, `cloud.${round}`)));
        const res = ours(['sync', root, BUNDLE]);
        record('upload', 'ours', round, res);
        if (lastDevice) discardDevice(ctx, lastDevice);
        lastDevice = { root, cloud: path.join(work, `cloud.${round}`) };
      } else {
        const dst = path.join(work, `rclone.${round}`);
        fs.mkdirSync(dst);
        const res = rcloneSync(tree, dst);
        record('upload', 'rclone', round, res);
        if (lastRcloneDst) ctx.discard(lastRcloneDst);
        lastRcloneDst = dst;
      }
    }
  }
  // Check (untimed): a second device on the last upload's cloud pulls every file as a cloud-only
  // entry, and downloads a sample byte for byte; rclone's copy equals the tree.
  const checks = [];
  if (lastDevice && results.upload.ours.every((r) => r.ok)) {
    const other = path.join(work, 'device.check');
    const folder = makeDevice(other, lastDevice.cloud);
    const pull = ours(['sync', other, BUNDLE]);
    if (!pull.ok) checks.push(`pull on a second device failed: ${pull.error}`);
    else {
      log(`  check: a second device pulled the upload (${s.files} cloud-only entries) in ${pull.seconds.toFixed(3)} s`);
      const local = fs.readdirSync(folder, { recursive: true }).filter((f) => fs.statSync(path.join(folder, f)).isFile());
      if (local.length) checks.push(`the pull wrote ${local.length} local files (cloud-only entries expected)`);
      for (const i of [0, Math.floor(s.files / 2), s.files - 1]) {
        const rel = `d${String(i % s.dirs).padStart(3, '0')}/f${String(i).padStart(6, '0')}.dat`;
        const dl = ours(['download', other, `file://${BUNDLE}/${CLOUD_DIR}/${rel}`]);
        if (!dl.ok) checks.push(`download of ${rel}: ${dl.error}`);
        else if (!fs.readFileSync(path.join(folder, rel)).equals(content(i, s.fileSize))) checks.push(`${rel} came down different`);
      }
    }
    results.upload.pullSeconds = pull.ok ? pull.seconds : null;
    ctx.discard(other);
  }
  if (lastRcloneDst && results.upload.rclone.every((r) => r.ok)) {
    const d = run('diff', ['-r', '-q', tree, lastRcloneDst]);
    if (d.status !== 0) checks.push(`rclone's copy differs: ${(d.stdout + d.stderr).trim().split('\n').slice(0, 3).join('; ')}`);
  }

  // ---------------------------------------------------------------- 2. no change
  for (let round = 1; round <= runs; round++) {
    const turn = round % 2 ? ['ours', 'rclone'] : ['rclone', 'ours'];
    for (const who of turn) {
      if (who === 'ours' && lastDevice) {
        const res = ours(['sync', lastDevice.root, BUNDLE]);
        record('noChange', 'ours', round, res);
      } else if (who === 'rclone' && rclone && lastRcloneDst) {
        record('noChange', 'rclone', round, rcloneSync(tree, lastRcloneDst));
      }
    }
  }
  if (lastDevice) discardDevice(ctx, lastDevice);
  if (lastRcloneDst) ctx.discard(lastRcloneDst);

  // ---------------------------------------------------------------- 3. download
  // Device U uploads the big file; device D pulls it as a cloud-only entry (both untimed). Each
  // round: D downloads it (timed), it is compared with the source and cleaned back to cloud-only
  // (untimed); cp copies the source to a new file on the same filesystem.
  const dlCloud = path.join(work, 'cloud.download');
  const up = path.join(work, 'device.upload');
  const cpBig = run('cp', ['-a', big, path.join(makeDevice(up, dlCloud), 'big.bin')]);
  if (cpBig.status !== 0) throw new Error(`cp -a ${big}: ${cpBig.stderr}`);
  const down = path.join(work, 'device.download');
  const downFolder = makeDevice(down, dlCloud);
  const bigUri = `file://${BUNDLE}/${CLOUD_DIR}/big.bin`;
  const setUp = [ours(['sync', up, BUNDLE]), ours(['sync', down, BUNDLE])];
  const bigHash = sha256(big);
  if (setUp.every((r) => r.ok)) {
    for (let round = 1; round <= runs; round++) {
      const turn = round % 2 ? ['ours', 'cp'] : ['cp', 'ours'];
      for (const who of turn) {
        if (who === 'ours') {
          const res = ours(['download', down, bigUri]);
          const got = path.join(downFolder, 'big.bin');
          if (res.ok && (!fs.existsSync(got) || sha256(got) !== bigHash)) {
            res.ok = false;
            res.error = 'the downloaded file differs from the source';
          }
          if (res.ok && res.child.bytes !== s.bigSize) {
            res.ok = false;
            res.error = `progress said ${res.child.bytes} bytes, not ${s.bigSize}`;
          }
          record('download', 'ours', round, res);
          const clean = run(cSync, ['clean', down, bigUri]);
          if (clean.status !== 0) failures.push(`cloud sync: cleanCache after a download failed: ${clean.stderr}`);
        } else {
          const copy = path.join(work, `copy.${round}.bin`);
          record('download', 'cp', round, timed(['cp', big, copy]));
          fs.rmSync(copy, { force: true });
        }
      }
    }
  } else failures.push(`cloud sync: download set-up failed: ${setUp.find((r) => !r.ok).error}`);
  ctx.discard(up);
  ctx.discard(down);
  ctx.discard(dlCloud);
  for (const c of checks) failures.push(`cloud sync check: ${c}`);

  // ---------------------------------------------------------------- summary
  const best = (list) => (list.length && list.every((r) => r.ok) ? Math.min(...list.map((r) => r.seconds)) : null);
  const bestInner = (list) => (list.length && list.every((r) => r.ok && r.innerSeconds != null) ? Math.min(...list.map((r) => r.innerSeconds)) : null);
  const peak = (list) => (list.length ? Math.max(...list.map((r) => r.maxRssKiB || 0)) * KiB : null);
  const div = (a, b) => (a !== null && b ? a / b : null);
  const up1 = { ours: best(results.upload.ours), oursInProcess: bestInner(results.upload.ours), rclone: best(results.upload.rclone) };
  const nc = { ours: best(results.noChange.ours), oursInProcess: bestInner(results.noChange.ours), rclone: best(results.noChange.rclone) };
  const dl = { ours: best(results.download.ours), oursInProcess: bestInner(results.download.ours), cp: best(results.download.cp) };
  const rows = [
    {
      operation: 'first upload',
      files: s.files,
      bytes: s.files * s.fileSize,
      seconds: { ours: up1.ours, oursInProcess: up1.oursInProcess, baseline: up1.rclone },
      baseline: 'rclone sync',
      ratio: div(up1.ours, up1.rclone),
      target: `<= ${SYNC_TARGET.uploadRatio}x`,
      meets: div(up1.ours, up1.rclone) !== null && div(up1.ours, up1.rclone) <= SYNC_TARGET.uploadRatio,
      filesPerSecond: { ours: div(s.files, up1.oursInProcess), rclone: div(s.files, up1.rclone) },
      peakRssBytes: { ours: peak(results.upload.ours), baseline: peak(results.upload.rclone) },
    },
    {
      operation: 'no-change sync',
      files: s.files,
      bytes: s.files * s.fileSize,
      seconds: { ours: nc.ours, oursInProcess: nc.oursInProcess, baseline: nc.rclone },
      baseline: 'rclone sync',
      ratio: div(nc.ours, nc.rclone),
      target: `<= ${SYNC_TARGET.noChangeRatio}x, >= ${SYNC_TARGET.noChangeFilesPerSecond.toLocaleString('en-US')} files/s`,
      meets: div(nc.ours, nc.rclone) !== null && div(nc.ours, nc.rclone) <= SYNC_TARGET.noChangeRatio,
      meetsRate: div(s.files, nc.oursInProcess) !== null && div(s.files, nc.oursInProcess) >= SYNC_TARGET.noChangeFilesPerSecond,
      filesPerSecond: { ours: div(s.files, nc.oursInProcess), oursProcess: div(s.files, nc.ours), rclone: div(s.files, nc.rclone) },
      peakRssBytes: { ours: peak(results.noChange.ours), baseline: peak(results.noChange.rclone) },
    },
    {
      operation: 'download',
      files: 1,
      bytes: s.bigSize,
      seconds: { ours: dl.ours, oursInProcess: dl.oursInProcess, baseline: dl.cp },
      baseline: 'cp',
      // A speed ratio: cp's time over ours (>= 0.9 means at least 90 % of a plain copy's speed).
      ratio: div(dl.cp, dl.ours),
      target: `>= ${SYNC_TARGET.downloadSpeedRatio}x (speed)`,
      meets: div(dl.cp, dl.ours) !== null && div(dl.cp, dl.ours) >= SYNC_TARGET.downloadSpeedRatio,
      bytesPerSecond: { ours: div(s.bigSize, dl.oursInProcess), cp: div(s.bigSize, dl.cp) },
      firstEventSeconds: results.download.ours.length ? Math.min(...results.download.ours.map((r) => (r.child && r.child.firstEventSeconds >= 0 ? r.child.firstEventSeconds : Infinity))) : null,
      peakRssBytes: { ours: peak(results.download.ours), baseline: peak(results.download.cp) },
    },
  ];
  const text = table(rows, { runs, work, onTmpfs: ctx.onTmpfs, rclone });
  return {
    rclone,
    sizes: s,
    cloudFsync:
      'on: the embedded LocalStore fsyncs every commit by default and device.json has no key to turn it off (LocalStore::set_fsync is not reachable from the public API); on tmpfs fsync does nothing',
    targets: SYNC_TARGET,
    rows,
    runs: results,
    table: text,
    totalSeconds: (Date.now() - started) / 1000,
  };
}

/** A device root and its cloud, discarded together. */
function discardDevice(ctx, d) {
  ctx.discard(d.root);
  ctx.discard(d.cloud);
}

export function table(rows, { runs, work, onTmpfs, rclone }) {
  const sec = (x) => (x === null || x === undefined ? 'failed' : x.toFixed(3));
  const mib = (x) => (x === null || x === undefined ? '-' : (x / MiB).toFixed(1));
  const rate = (x, unit) => (x === null || x === undefined ? '-' : unit === 'B' ? `${(x / MiB).toFixed(0)} MiB/s` : `${Math.round(x).toLocaleString('en-US')} files/s`);
  const header = ['operation', 'baseline', 'base s', 'ohfile s', 'in-process s', 'ratio', 'target', 'ohfile rate', 'RSS ohfile MiB', 'RSS base MiB'];
  const lines = rows.map((r) => [
    `${r.operation} (${r.files === 1 ? `${(r.bytes / MiB).toFixed(0)} MiB` : `${r.files} files`})`,
    r.baseline,
    r.baseline === 'rclone sync' && !rclone ? 'skipped' : sec(r.seconds.baseline),
    sec(r.seconds.ours),
    sec(r.seconds.oursInProcess),
    r.ratio === null ? '-' : `${r.ratio.toFixed(2)}x${r.meets ? '' : ' MISS'}`,
    r.target,
    (r.bytesPerSecond ? rate(r.bytesPerSecond.ours, 'B') : rate(r.filesPerSecond.ours, 'f')) + (r.meetsRate === false ? ' MISS' : ''),
    mib(r.peakRssBytes.ours),
    mib(r.peakRssBytes.baseline),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [
    fmt(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...lines.map(fmt),
    '',
    `Seconds: best of ${runs}; every process timed the same way (fork to exit, bench/c_sync.c exec); data and outputs on ${onTmpfs ? 'tmpfs' : 'disk'} (${work}).`,
    'ohfile = bench/c_sync.c through the public C API: FileSync start to idle (upload, no change), CloudFileCache start to idle (download); in-process = ohf_device_open to idle.',
    'ratio: ohfile/baseline process times for the syncs (<= 1 is no slower); for the download cp/ohfile, a speed ratio (>= 0.9 is at least 90 % of a plain copy).',
    `rate: files/s or MiB/s over the in-process time. Peak RSS: ohfile = VmHWM of its process (library and client); baselines = ru_maxrss from wait4. Baseline: ${rclone || 'rclone not installed (skipped)'}.`,
  ].join('\n');
}
