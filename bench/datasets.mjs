// The benchmark's test trees, written once into bench/data/<mode>/<name>/ as a device root with one
// app whose sandbox holds the files, and reused while their `complete.json` matches the spec.
// Content is deterministic: AES-128-CTR of zeros under a fixed key, a fresh IV per file (so every
// file differs and nothing compresses), and mtimes of whole seconds from a fixed epoch, so the
// same spec always gives byte-identical trees.
import { createCipheriv } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The app every dataset installs. */
export const BUNDLE = 'com.bench.s';
/** The sandbox folder the app's profile backs up, relative to the sandbox. */
export const FILES_DIR = 'data/storage/el2/base/files';
export const BUNDLE_JSON = { versionCode: 1, versionName: '1' };
export const BACKUP_CONFIG = { allowToBackupRestore: true, includes: [`${FILES_DIR}/`] };

// Bump when the generator's output changes: a stored tree of another version is regenerated.
const GENERATOR_VERSION = 1;
const KEY = Buffer.from('ohfile-bench-key'); // 16 bytes: AES-128
const EPOCH = 1_700_000_000;
const KiB = 1024;
const MiB = 1024 * KiB;

/** Specs by mode. `small`: count of 1–16 KiB files spread over `dirs` folders; `groups`: bigger files. */
export function specs(quick) {
  return quick
    ? {
        S: { small: 5_000, dirs: 50, groups: [] },
        M: { small: 1_000, dirs: 10, groups: [{ dir: 'media', count: 4, min: 1 * MiB, max: 8 * MiB }, { dir: 'video', count: 2, min: 32 * MiB, max: 32 * MiB }] },
      }
    : {
        S: { small: 50_000, dirs: 500, groups: [] },
        M: { small: 10_000, dirs: 100, groups: [{ dir: 'media', count: 20, min: 1 * MiB, max: 8 * MiB }, { dir: 'video', count: 2, min: 256 * MiB, max: 256 * MiB }] },
      };
}

/** A small deterministic PRNG (splitmix32) for sizes. */
function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Every file of a spec in a fixed order: {rel (under FILES_DIR), size, mtime}. */
export function fileList(name, spec) {
  const rand = prng(name.charCodeAt(0) * 7919 + spec.small);
  const between = (min, max) => min + (rand() % (max - min + 1));
  const files = [];
  // Two levels (g../d..) so no folder is huge and paths look like an app's.
  const perGroup = Math.max(1, Math.round(Math.sqrt(spec.dirs)));
  for (let i = 0; i < spec.small; i++) {
    const d = i % spec.dirs;
    const dir = `g${String(Math.floor(d / perGroup)).padStart(2, '0')}/d${String(d % perGroup).padStart(2, '0')}`;
    files.push({ rel: `${dir}/f${String(i).padStart(6, '0')}.dat`, size: between(1 * KiB, 16 * KiB) });
  }
  for (const g of spec.groups) {
    for (let i = 0; i < g.count; i++) {
      files.push({ rel: `${g.dir}/${g.dir}${String(i).padStart(3, '0')}.bin`, size: between(g.min, g.max) });
    }
  }
  files.forEach((f, i) => (f.mtime = EPOCH + i));
  return files;
}

/** Writes `size` deterministic bytes for file number `index` to `file`. */
function writeContent(file, index, size) {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(index, 0);
  iv.writeUInt32BE(0x0b5e55ed, 4);
  const cipher = createCipheriv('aes-128-ctr', KEY, iv);
  const fd = fs.openSync(file, 'w', 0o644);
  try {
    const chunk = Buffer.alloc(Math.min(size, 4 * MiB));
    for (let left = size; left > 0; ) {
      const n = Math.min(left, chunk.length);
      const out = cipher.update(n === chunk.length ? chunk : chunk.subarray(0, n));
      fs.writeSync(fd, out);
      left -= n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Where a dataset lives: {root, sandbox, files (the backed-up folder)}. */
export function layout(dataDir, mode, name) {
  const root = path.join(dataDir, mode, name, 'root');
  const sandbox = path.join(root, 'apps', BUNDLE, 'sandbox');
  return { base: path.join(dataDir, mode, name), root, sandbox, files: path.join(sandbox, FILES_DIR) };
}

/** Installs the bench app (bundle.json, backup_config.json, an empty sandbox) in a device root. */
export function installApp(root) {
  const app = path.join(root, 'apps', BUNDLE);
  fs.mkdirSync(path.join(app, 'sandbox'), { recursive: true });
  fs.writeFileSync(path.join(app, 'bundle.json'), JSON.stringify(BUNDLE_JSON));
  fs.writeFileSync(path.join(app, 'backup_config.json'), JSON.stringify(BACKUP_CONFIG));
}

/**
 * Makes sure dataset `name` exists and is complete; generates it (printing progress) if not.
 * Returns its layout plus {list, count, bytes, generated, replaced (an old tree was deleted)}.
 */
export function ensureDataset(dataDir, quick, name, log = console.log) {
  const mode = quick ? 'quick' : 'full';
  const spec = specs(quick)[name];
  const where = layout(dataDir, mode, name);
  const list = fileList(name, spec);
  const bytes = list.reduce((a, f) => a + f.size, 0);
  const marker = path.join(where.base, 'complete.json');
  const want = { generator: GENERATOR_VERSION, spec, count: list.length, bytes };
  let have = null;
  try {
    have = JSON.parse(fs.readFileSync(marker, 'utf8'));
  } catch {
    /* not there or unreadable: generate */
  }
  if (have && JSON.stringify(have) === JSON.stringify(want) && fs.existsSync(where.files)) {
    return { ...where, name, list, count: list.length, bytes, generated: false, replaced: false };
  }
  log(`  generating ${mode} dataset ${name}: ${list.length} files, ${(bytes / MiB).toFixed(0)} MiB in ${where.base}`);
  const replaced = fs.existsSync(where.base);
  fs.rmSync(where.base, { recursive: true, force: true });
  installApp(where.root);
  const made = new Set();
  const started = Date.now();
  let lastReport = started;
  let written = 0;
  list.forEach((f, i) => {
    const file = path.join(where.files, f.rel);
    const dir = path.dirname(file);
    if (!made.has(dir)) {
      fs.mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    writeContent(file, i, f.size);
    fs.utimesSync(file, f.mtime, f.mtime);
    written += f.size;
    if (Date.now() - lastReport > 2000) {
      lastReport = Date.now();
      log(`    ${i + 1}/${list.length} files, ${(written / MiB).toFixed(0)} MiB`);
    }
  });
  fs.writeFileSync(marker, JSON.stringify(want));
  log(`    done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { ...where, name, list, count: list.length, bytes, generated: true, replaced };
}
