#!/usr/bin/env node
// `npm test`: everything, in order, from a fresh clone. Stops at the first failing step and ends
// with one line "N passed, M failed" that counts the tests of every suite.
//   fmt → clippy → cargo test → header drift → C tests → addon build → node tests → examples-ts
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const only = process.env.OHFILE_TEST_ONLY ? process.env.OHFILE_TEST_ONLY.split(',') : null;
let passed = 0;
let failed = 0;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 256 << 20, ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  process.stdout.write(r.stdout || '');
  process.stderr.write(r.stderr || '');
  if (r.error) throw r.error;
  return r;
}

function step(name, fn) {
  if (only && !only.includes(name)) return;
  const t0 = Date.now();
  console.log(`\n=== ${name}`);
  let ok = false;
  try {
    ok = fn() !== false;
  } catch (e) {
    console.error(e);
  }
  console.log(`=== ${name}: ${ok ? 'ok' : 'FAILED'} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  if (!ok) {
    failed += 1;
    console.log(`\n${passed} passed, ${failed} failed`);
    process.exit(1);
  }
}

/** Adds the counts that cargo's "test result:" lines report. */
function countCargo(out) {
  for (const m of out.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
    passed += Number(m[1]);
    failed += Number(m[2]);
  }
}

step('setup', () => {
  if (existsSync(path.join(root, 'node_modules', 'typescript'))) return true;
  return run('npm', ['ci', '--no-audit', '--no-fund']).status === 0;
});

step('fmt', () => run('cargo', ['fmt', '--all', '--check']).status === 0);

step('clippy', () => run('cargo', ['clippy', '--workspace', '--all-targets', '--', '-D', 'warnings']).status === 0);

step('cargo test', () => {
  const r = run('cargo', ['test', '--workspace', '--', '--skip', 'committed_header_matches']);
  countCargo(r.stdout);
  return r.status === 0;
});

step('header drift', () => {
  const r = run('cargo', ['test', '-p', 'ohfile-ffi', '--test', 'header_drift']);
  countCargo(r.stdout);
  return r.status === 0;
});

step('build', () => run('node', ['scripts/build.mjs']).status === 0);

step('C tests', () => {
  const lib = path.join(process.env.CARGO_TARGET_DIR || 'target', 'debug');
  const out = path.join('tests', 'c', 'build');
  mkdirSync(path.join(root, out), { recursive: true });
  const cflags = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-Iinclude'];
  for (const file of readdirSync(path.join(root, 'tests', 'c')).filter((f) => f.endsWith('.c')).sort()) {
    const exe = path.join(out, path.basename(file, '.c'));
    // Static library, then the shared one: both are what users link.
    const builds = [
      [exe, [...cflags, path.join('tests', 'c', file), path.join(lib, 'libohfile.a'), '-lpthread', '-ldl', '-lm', '-o', exe], {}],
      [`${exe}-shared`, [...cflags, path.join('tests', 'c', file), `-L${lib}`, '-lohfile', '-o', `${exe}-shared`], { LD_LIBRARY_PATH: path.join(root, lib) }],
    ];
    for (const [bin, args, extraEnv] of builds) {
      if (run('cc', args).status !== 0) return false;
      const r = run(bin, [], { env: { ...process.env, ...extraEnv } });
      if (r.status === 0) passed += 1;
      else {
        failed += 1;
        return false;
      }
    }
  }
  // The C example, built the same strict way and run on two sample devices by a script that
  // checks the clone arrived intact: one test.
  const clone = path.join(out, 'clone');
  const cloneArgs = [...cflags, path.join('examples-c', 'clone.c'), path.join(lib, 'libohfile.a'), '-lpthread', '-ldl', '-lm', '-o', clone];
  if (run('cc', cloneArgs).status !== 0) return false;
  if (run('sh', [path.join('tests', 'c', 'run_clone_example.sh'), clone]).status === 0) passed += 1;
  else {
    failed += 1;
    return false;
  }
  // The cloud-sync example, the same way: two devices sharing a cloud, a download on the second.
  const syncExample = path.join(out, 'sync');
  if (run('cc', [...cflags, path.join('examples-c', 'sync.c'), path.join(lib, 'libohfile.a'), '-lpthread', '-ldl', '-lm', '-o', syncExample]).status !== 0) return false;
  if (run('sh', [path.join('tests', 'c', 'run_sync_example.sh'), syncExample]).status === 0) passed += 1;
  else {
    failed += 1;
    return false;
  }
  if (spawnSync('c++', ['--version']).status === 0) {
    // The headers compile as C++: ohfile.h (header_cpp.cpp) and the asset NDK's (asset_header_cpp.cpp).
    for (const file of readdirSync(path.join(root, 'tests', 'c')).filter((f) => f.endsWith('.cpp')).sort()) {
      const cxx = ['-std=c++11', '-Wall', '-Wextra', '-Werror', '-Iinclude', path.join('tests', 'c', file), `-L${lib}`, '-lohfile', '-o', path.join(out, path.basename(file, '.cpp'))];
      if (run('c++', cxx).status !== 0) return false;
      passed += 1;
    }
  } else console.log('(no C++ compiler: the C++ header check is skipped)');
  return true;
});

step('node tests', () => {
  const files = readdirSync(path.join(root, 'tests', 'node')).filter((f) => f.endsWith('.test.js') || f.endsWith('.test.mjs')).sort();
  const r = run('node', ['--test', '--test-reporter=spec', ...files.map((f) => path.join('tests', 'node', f))]);
  const pass = /ℹ pass (\d+)/.exec(r.stdout);
  const fail = /ℹ fail (\d+)/.exec(r.stdout);
  passed += pass ? Number(pass[1]) : 0;
  failed += fail ? Number(fail[1]) : 0;
  return r.status === 0;
});

step('examples-ts', () => {
  if (run('node', ['node_modules/typescript/bin/tsc', '-p', 'examples-ts']).status !== 0) return false;
  const r = run('node', ['examples-ts/run.mjs']);
  const m = /examples: (\d+) passed, (\d+) failed/.exec(r.stdout);
  if (m) {
    passed += Number(m[1]);
    failed += Number(m[2]);
  }
  return r.status === 0;
});

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
