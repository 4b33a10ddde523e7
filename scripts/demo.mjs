#!/usr/bin/env node
// `npm run demo`: builds what it needs, makes two sample devices — A with three apps (one with a
// Node backup extension, one that does not allow backup), B with the same apps freshly installed —
// clones A's apps to B through the public @ohos.file.backup API with a progress bar, and checks
// that B's sandboxes now equal A's byte for byte, with modes and mtimes.
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
} finally {
  rmSync(work, { recursive: true, force: true });
}
