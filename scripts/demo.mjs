#!/usr/bin/env node
// `npm run demo`: builds what it needs, makes a sample device with two apps under a temp root and
// prints what getLocalCapabilities reports for it (the first step of a device clone).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const build = spawnSync(process.execPath, [path.join(repo, 'scripts', 'build.mjs')], { cwd: repo, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const root = mkdtempSync(path.join(os.tmpdir(), 'ohfile-demo-'));
function install(name, bundle, config, files) {
  const dir = path.join(root, 'apps', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'bundle.json'), JSON.stringify(bundle, null, 2));
  writeFileSync(path.join(dir, 'backup_config.json'), JSON.stringify(config, null, 2));
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, 'sandbox', rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
}
writeFileSync(path.join(root, 'device.json'), JSON.stringify({ deviceType: 'phone', systemFullName: 'OpenHarmony-5.0.0.0' }));
install('com.example.notes', { versionCode: 1000000, versionName: '1.0.0' }, { allowToBackupRestore: true }, {
  'data/storage/el2/base/files/notes/today.txt': 'Buy milk\n',
  'data/storage/el2/base/preferences/settings.xml': '<prefs theme="dark"/>\n',
  'data/storage/el2/database/notes.db': Buffer.alloc(8192, 1),
});
install('com.example.game', { versionCode: 42, versionName: '0.4.2' }, { allowToBackupRestore: false }, {
  'data/storage/el2/base/files/save.dat': 'level=3\n',
});

process.env.OHFILE_ROOT = root;
const require = createRequire(import.meta.url);
const { backup, fileIo } = require('ohfile');
try {
  const { fd } = await backup.getLocalCapabilities();
  const buf = new ArrayBuffer(1 << 20);
  const n = fileIo.readSync(fd, buf);
  fileIo.closeSync(fd);
  console.log(`\nSample device at ${root}; backup.getLocalCapabilities() says:\n`);
  console.log(Buffer.from(buf, 0, n).toString());
} finally {
  rmSync(root, { recursive: true, force: true });
}
