#!/usr/bin/env node
// `npm run demo`: builds what it needs, then two acts.
// 1. Clone: makes two sample devices — A with three apps (one with a Node backup extension, one
//    that does not allow backup), B with the same apps freshly installed — clones A's apps to B
//    through the public @ohos.file.backup API with a progress bar, and checks that B's sandboxes
//    now equal A's byte for byte, with modes and mtimes.
// 2. Cloud: two devices share one cloud (@ohos.file.cloudSync). A file created on the phone is
//    cloud-only on the tablet until CloudFileCache brings it down (progress bar); then both edit
//    one note at once, and after syncing both versions are there: `notes.txt` and `notes(1).txt`.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => spawnSync(cmd, args, { cwd: repo, stdio: 'inherit' }).status === 0;
if (!existsSync(path.join(repo, 'node_modules', 'cli-progress')) && !run('npm', ['ci', '--no-audit', '--no-fund'])) process.exit(1);
if (!run(process.execPath, [path.join(repo, 'scripts', 'build.mjs')])) process.exit(1);

const require = createRequire(import.meta.url);
const cliProgress = require('cli-progress');
const tools = require('../node-binding/lib/tools/clone.js');
const { cloudSync } = require('../node-binding/lib/index.js');

const EXTENSION = `import BackupExtensionAbility from '@ohos.application.BackupExtensionAbility';
export default class PhotosBackup extends BackupExtensionAbility {
  async onBackupEx(backupInfo) { return JSON.stringify({ resultInfo: [{ type: 'CountInfo', infos: [{ note: 'photos ready' }] }] }); }
  async onRestoreEx(bundleVersion, restoreInfo) { return JSON.stringify({ resultInfo: [{ type: 'CountInfo', infos: [{ restoredFrom: bundleVersion.name }] }] }); }
}
`;

function install(root, name, { bundle, config, files = {}, extension }) {
  const dir = path.join(root, 'apps', name);
  mkdirSync(path.join(dir, 'sandbox'), { recursive: true });
  writeFileSync(path.join(dir, 'bundle.json'), JSON.stringify(bundle, null, 2));
  writeFileSync(path.join(dir, 'backup_config.json'), JSON.stringify(config, null, 2));
  if (extension) writeFileSync(path.join(dir, 'ext.mjs'), extension);
  for (const [rel, [content, mode, mtime]] of Object.entries(files)) {
    const p = path.join(dir, 'sandbox', rel);
    mkdirSync(path.dirname(p), { recursive: true });
    if (content === null) {
      mkdirSync(p, { recursive: true });
      continue;
    }
    writeFileSync(p, content);
    chmodSync(p, mode);
    utimesSync(p, mtime, mtime);
  }
}

function tree(dir) {
  const out = {};
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p);
      if (rel.split(path.sep).includes('.backup')) continue;
      const st = lstatSync(p);
      out[rel] = e.isDirectory() ? `dir ${st.mode & 0o7777}` : `${st.mode & 0o7777} ${Math.floor(st.mtimeMs / 1000)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
      if (e.isDirectory()) walk(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

// ---- act 2: two devices, one cloud ----------------------------------------------------------

const DRIVE = 'com.example.drive';
const CLOUD_DIR = 'data/storage/el2/cloud';
const sha = (buf) => createHash('sha256').update(buf).digest('hex');

/** Runs `fn` with $OHFILE_ROOT = `root` (the cloudSync objects take their device from it). */
function onDevice(root, fn) {
  const old = process.env.OHFILE_ROOT;
  process.env.OHFILE_ROOT = root;
  try {
    return fn();
  } finally {
    if (old === undefined) delete process.env.OHFILE_ROOT;
    else process.env.OHFILE_ROOT = old;
  }
}

/** One FileSync run of the drive app on `root`; resolves with the final SyncProgress. */
async function syncDrive(label, root) {
  const s = onDevice(root, () => new cloudSync.FileSync(DRIVE));
  const names = Object.fromEntries(Object.entries(cloudSync.SyncState).map(([k, v]) => [v, k]));
  const seen = [];
  let armed = false;
  const end = new Promise((resolve) => {
    s.on('progress', (p) => {
      if (!armed) return; // the state of an earlier run, replayed on registration
      if (seen[seen.length - 1] !== names[p.state]) seen.push(names[p.state]);
      if (p.state !== cloudSync.SyncState.UPLOADING && p.state !== cloudSync.SyncState.DOWNLOADING) resolve(p);
    });
  });
  await new Promise((r) => setTimeout(r, 20));
  armed = true;
  await s.start();
  const last = await end;
  s.off('progress');
  console.log(`  ${label.padEnd(7)} FileSync.start() → ${seen.join(' → ')}`);
  return last;
}

function uriOf(rel) {
  return `file://${DRIVE}/${CLOUD_DIR}/${rel}`;
}

function stateName(root, rel) {
  const s = onDevice(root, () => cloudSync.getFileSyncState(uriOf(rel)));
  return Object.keys(cloudSync.FileSyncState).find((k) => cloudSync.FileSyncState[k] === s);
}

async function cloudAct(work) {
  console.log('\nAct 2 — two devices, one cloud (@ohos.file.cloudSync)');
  const cloud = path.join(work, 'cloud');
  const [phone, tablet] = [path.join(work, 'phone'), path.join(work, 'tablet')];
  const folder = (root) => path.join(root, 'apps', DRIVE, 'sandbox', CLOUD_DIR);
  for (const root of [phone, tablet]) {
    mkdirSync(folder(root), { recursive: true });
    writeFileSync(path.join(root, 'apps', DRIVE, 'bundle.json'), JSON.stringify({ versionCode: 1, versionName: '1.0.0' }));
    writeFileSync(path.join(root, 'device.json'), JSON.stringify({ deviceType: 'default', cloud }));
  }
  console.log(`  phone ${phone} and tablet ${tablet} share the cloud ${cloud}`);

  const report = Buffer.alloc(48 << 20);
  for (let i = 0; i < report.length; i += 4096) report.writeUInt32LE(i, i);
  writeFileSync(path.join(folder(phone), 'report.pdf'), report);
  writeFileSync(path.join(folder(phone), 'notes.txt'), 'shopping: milk\n');
  let ok = (await syncDrive('phone', phone)).state === cloudSync.SyncState.COMPLETED;
  ok = (await syncDrive('tablet', tablet)).state === cloudSync.SyncState.COMPLETED && ok;
  const cloudOnly = !existsSync(path.join(folder(tablet), 'report.pdf'));
  console.log(`  tablet  report.pdf: getFileSyncState = ${stateName(tablet, 'report.pdf')}, local file: ${cloudOnly ? 'none (cloud-only)' : 'PRESENT'}`);
  ok &&= cloudOnly;

  // Bring it down with CloudFileCache, showing its progress events as a bar.
  const cache = onDevice(tablet, () => new cloudSync.CloudFileCache(DRIVE));
  const bar = new cliProgress.SingleBar({ format: '  tablet  CloudFileCache [{bar}] {percentage}% | {value}/{total} MiB', noTTYOutput: true, notTTYSchedule: 1000 }, cliProgress.Presets.shades_classic);
  const mib = (b) => Math.round((b / 1048576) * 10) / 10;
  bar.start(mib(report.length), 0);
  const downloaded = await new Promise((resolve, reject) => {
    cache.on('progress', (p) => {
      bar.update(mib(p.processed));
      if (p.state !== cloudSync.State.RUNNING) resolve(p);
    });
    cache.start(uriOf('report.pdf')).catch(reject);
  });
  cache.off('progress');
  bar.stop();
  const same = downloaded.state === cloudSync.State.COMPLETED && sha(readFileSync(path.join(folder(tablet), 'report.pdf'))) === sha(report);
  console.log(`  tablet  report.pdf downloaded: ${same ? 'identical to the phone\'s' : 'DIFFERENT'} (getFileSyncState = ${stateName(tablet, 'report.pdf')})`);
  ok &&= same;

  // Both edit the same note before either syncs: nothing may be lost.
  await new Promise((resolve, reject) => {
    cache.on('progress', (p) => p.state !== cloudSync.State.RUNNING && resolve());
    cache.start(uriOf('notes.txt')).catch(reject);
  });
  cache.off('progress');
  writeFileSync(path.join(folder(phone), 'notes.txt'), 'shopping: milk, bread (edited on the phone)\n');
  writeFileSync(path.join(folder(tablet), 'notes.txt'), 'shopping: milk, eggs (edited on the tablet)\n');
  console.log('  phone and tablet both edit notes.txt, then sync (phone first):');
  ok = (await syncDrive('phone', phone)).state === cloudSync.SyncState.COMPLETED && ok;
  ok = (await syncDrive('tablet', tablet)).state === cloudSync.SyncState.COMPLETED && ok;
  ok = (await syncDrive('phone', phone)).state === cloudSync.SyncState.COMPLETED && ok;
  const notes = readdirSync(folder(tablet)).filter((f) => f.startsWith('notes')).sort();
  for (const f of notes) console.log(`  tablet  ${f.padEnd(13)} ${JSON.stringify(readFileSync(path.join(folder(tablet), f), 'utf8'))}`);
  const onPhone = ['notes.txt', 'notes(1).txt'].map((f) => `${f} ${existsSync(path.join(folder(phone), f)) ? 'local' : `cloud-only (${stateName(phone, f)})`}`);
  console.log(`  phone   ${onPhone.join(', ')}`);
  const both = notes.includes('notes(1).txt') && notes.includes('notes.txt');
  console.log(both ? '\nBoth versions kept: the cloud\'s under the name, the tablet\'s own edit as notes(1).txt.' : '\nConflict handling FAILED: a version is missing.');
  return ok && both;
}

const work = mkdtempSync(path.join(os.tmpdir(), 'ohfile-demo-'));
const [a, b] = [path.join(work, 'deviceA'), path.join(work, 'deviceB')];
const t = 1_700_000_000;
const apps = {
  'com.example.notes': {
    bundle: { versionCode: 1000000, versionName: '1.0.0' },
    config: { allowToBackupRestore: true, excludes: ['*.tmp'] },
    files: {
      'data/storage/el2/base/files/notes/today.txt': ['Buy milk\n', 0o640, t],
      'data/storage/el2/base/files/notes/scratch.tmp': ['not backed up\n', 0o600, t],
      'data/storage/el2/base/preferences/settings.xml': ['<prefs theme="dark"/>\n', 0o600, t + 1],
      'data/storage/el2/database/notes.db': [Buffer.alloc(8192, 1), 0o600, t + 2],
      'data/storage/el2/base/files/attachments': [null],
    },
  },
  'com.example.photos': {
    bundle: { versionCode: 2000000, versionName: '2.0.0', extension: { name: 'BackupExtensionAbility', module: 'ext.mjs' } },
    config: { allowToBackupRestore: true },
    extension: EXTENSION,
    files: Object.fromEntries([
      ...Array.from({ length: 200 }, (_, i) => [`data/storage/el2/base/files/thumbs/t${i}.jpg`, [Buffer.alloc(4096 + i, i % 256), 0o644, t + i]]),
      ...Array.from({ length: 3 }, (_, i) => [`data/storage/el2/base/files/full/p${i}.jpg`, [Buffer.alloc(6 << 20, 7 + i), 0o644, t + i]]),
    ]),
  },
  'com.example.game': {
    bundle: { versionCode: 42, versionName: '0.4.2' },
    config: { allowToBackupRestore: false },
    files: { 'data/storage/el2/base/files/save.dat': ['level=3\n', 0o600, t] },
  },
};
for (const [name, app] of Object.entries(apps)) {
  install(a, name, app);
  install(b, name, { ...app, files: {} });
}
writeFileSync(path.join(a, 'device.json'), JSON.stringify({ deviceType: 'phone', systemFullName: 'OpenHarmony-5.0.0.0' }));

try {
  const caps = await tools.capabilities(a);
  console.log(`\nDevice A (${a}) — backup.getLocalCapabilities():`);
  for (const bi of caps.bundleInfos) console.log(`  ${bi.name.padEnd(20)} allToBackup=${bi.allToBackup} spaceOccupied=${bi.spaceOccupied} extension=${bi.extensionName || '-'}`);
  const total = caps.bundleInfos.filter((x) => x.allToBackup).reduce((n, x) => n + x.spaceOccupied, 0);
  console.log(`\nCloning A → B (backup to files, then restore):`);
  const bar = new cliProgress.SingleBar({ format: '  [{bar}] {percentage}% | {value}/{total} KiB | {bundle} {uri}', noTTYOutput: true, notTTYSchedule: 1000 }, cliProgress.Presets.shades_classic);
  bar.start(Math.ceil((2 * total) / 1024), 0, { bundle: '', uri: '' });
  let done = 0;
  const r = await tools.clone(a, b, Object.keys(apps), ({ bundle, uri, bytes }) => {
    done += bytes;
    bar.update(Math.min(Math.ceil(done / 1024), bar.getTotal()), { bundle, uri });
  });
  bar.update(bar.getTotal());
  bar.stop();
  for (const [name, x] of Object.entries(r.backup)) console.log(`  backup  ${name.padEnd(20)} ${x.ok ? `ok (${x.files} files, ${x.bytes} bytes)` : `refused: ${x.message} (${x.code})`}`);
  for (const [name, x] of Object.entries(r.restore)) console.log(`  restore ${name.padEnd(20)} ${x.ok ? 'ok' : `FAILED: ${x.message} (${x.code})`}`);
  let same = true;
  for (const name of Object.keys(r.restore)) {
    const [ta, tb] = [tree(path.join(a, 'apps', name, 'sandbox')), tree(path.join(b, 'apps', name, 'sandbox'))];
    const expected = Object.fromEntries(Object.entries(ta).filter(([k]) => !k.endsWith('.tmp')));
    const equal = JSON.stringify(expected) === JSON.stringify(tb);
    same &&= equal;
    console.log(`  verify  ${name.padEnd(20)} ${equal ? `B equals A (${Object.keys(tb).length} entries, modes and mtimes included)` : 'B DIFFERS from A'}`);
  }
  console.log(same ? '\nClone verified.' : '\nClone verification FAILED.');
  process.exitCode = same && Object.values(r.restore).every((x) => x.ok) ? 0 : 1;
  if (!(await cloudAct(work))) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
