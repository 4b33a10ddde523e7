// The incremental part of the bench (dataset S): an IncrementalBackupSession run with nothing
// changed against `tar --listed-incremental` with nothing changed, and runs with k = 10 and
// k = 1000 changed files, all against the same previous manifest, in the same run.
import fs from 'node:fs';
import path from 'node:path';

/**
 * ctx: {root, sandbox, filesDir, base, bundle, runs, expected, nodeClient, nodeEnv, runClient,
 * runTar, log, discard, fullBackupSeconds, idle, targets}
 */
export function benchIncremental(ctx) {
  const { root, sandbox, base, bundle, runs, log } = ctx;
  log('\n  incremental (S): the first run makes the previous manifest; then k = 0, 10, 1000 changed files');
  const first = path.join(base, 'inc-first');
  const t0 = Math.floor(Date.now() / 1000);
  const r0 = ctx.runClient(process.execPath, [ctx.nodeClient, 'incremental', root, first, bundle, '-', '0'], ctx.nodeEnv);
  if (!r0.ok) return { error: `first incremental run failed: ${r0.error}` };
  const previous = path.join(base, 'previous.rp');
  fs.copyFileSync(path.join(first, bundle, 'manage.json.rp'), previous);
  const manifestRecords = fs.readFileSync(previous, 'utf8').split('\n').filter((l) => l.startsWith('/')).length;
  ctx.discard(first);
  // Let the clock pass the second of the first run, so "same second" hashing does not kick in.
  while (Math.floor(Date.now() / 1000) <= t0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);

  // tar's level 0 (untimed), then level 1 runs from a copy of its snapshot.
  const tarDir = path.join(base, 'inc-tar');
  fs.mkdirSync(tarDir, { recursive: true });
  const snap0 = path.join(tarDir, 'snap0');
  const l0 = ctx.runTar([`--listed-incremental=${snap0}`, '-cf', path.join(tarDir, 'level0.tar'), '-C', sandbox, '.']);
  if (!l0.ok) return { error: l0.error };
  fs.rmSync(path.join(tarDir, 'level0.tar'));

  const best = (xs) => xs.filter((x) => x.ok).sort((a, b) => a.seconds - b.seconds)[0];
  const measure = (k) => {
    const ours = [];
    const tars = [];
    for (let i = 0; i < runs; i++) {
      const out = path.join(base, `inc-k${k}-${i}`);
      const r = ctx.runClient(process.execPath, [ctx.nodeClient, 'incremental', root, out, bundle, previous, String(t0)], ctx.nodeEnv);
      if (r.ok) {
        // What was sent: manage.json, plus items whose manifests list exactly the changed files.
        const sent = fs.readdirSync(path.join(out, bundle)).filter((f) => f.endsWith('.rp') && f !== 'manage.json.rp');
        const listed = sent.reduce((n, f) => n + fs.readFileSync(path.join(out, bundle, f), 'utf8').split('\n').filter((l) => l.startsWith('/')).length, 0);
        if (listed !== k) {
          r.ok = false;
          r.error = `sent ${listed} files, expected ${k}`;
        }
      }
      ours.push(r);
      ctx.discard(out);
      const snap = path.join(tarDir, `snap-${k}-${i}`);
      fs.copyFileSync(snap0, snap);
      const t = ctx.runTar([`--listed-incremental=${snap}`, '-cf', path.join(tarDir, `level1-${k}-${i}.tar`), '-C', sandbox, '.']);
      fs.rmSync(path.join(tarDir, `level1-${k}-${i}.tar`), { force: true });
      tars.push(t);
    }
    const o = best(ours);
    const t = best(tars);
    const row = {
      k,
      tarSeconds: t && t.seconds,
      nodeSeconds: o && o.seconds,
      ratio: o && t ? o.seconds / t.seconds : null,
      peakRssBytes: o && o.maxRssKiB ? o.maxRssKiB * 1024 - ctx.idle.rssBytes : null,
      maxFds: o && o.maxFds,
      errors: ours.filter((x) => !x.ok).map((x) => x.error),
    };
    log(`    k = ${String(k).padStart(4)}: ohfile ${row.nodeSeconds?.toFixed(3)} s, tar --listed-incremental ${row.tarSeconds?.toFixed(3)} s, ratio ${row.ratio?.toFixed(2)}x${row.errors.length ? `, FAILED: ${row.errors[0]}` : ''}`);
    return row;
  };

  // k changed files: the same size, new content and mtime (a rewrite), spread over the tree.
  const files = [...ctx.expected.files.keys()].sort();
  const touched = new Set();
  const change = (k) => {
    // k distinct files in all, spread over the tree (the ones changed before count).
    const step = Math.max(1, Math.floor(files.length / k));
    for (let start = 0; touched.size < k && start < step; start++) {
      for (let i = start; touched.size < k && i < files.length; i += step) {
        if (touched.has(i)) continue;
        touched.add(i);
        const p = path.join(ctx.filesDir, files[i]);
        const data = fs.readFileSync(p);
        data[0] ^= 0xff;
        fs.writeFileSync(p, data);
      }
    }
  };
  const rows = [measure(0)];
  change(10);
  rows.push(measure(10));
  change(1000);
  rows.push(measure(1000));
  ctx.discard(tarDir);
  const k0 = rows[0];
  const rssTarget = ctx.targets.rssBase + ctx.targets.rssPerFile * manifestRecords;
  const summary = {
    files: files.length,
    manifestRecords,
    rows,
    noChangeVsTar: k0.ratio,
    noChangeVsFull: k0.nodeSeconds && ctx.fullBackupSeconds ? k0.nodeSeconds / ctx.fullBackupSeconds : null,
    peakRssBytes: k0.peakRssBytes,
    rssTargetBytes: rssTarget,
    targets: { vsTar: 1.5, vsFull: 0.1 },
  };
  log(`    no change: ${summary.noChangeVsTar?.toFixed(2)}x tar --listed-incremental (target <= 1.5x), ${(100 * summary.noChangeVsFull).toFixed(1)}% of a full backup (target <= 10%), peak RSS ${(summary.peakRssBytes / 1048576).toFixed(1)} MiB (target ${(rssTarget / 1048576).toFixed(1)} MiB)`);
  return summary;
}
