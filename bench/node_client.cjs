'use strict';
// The benchmark's Node client: one backup or restore through ohfile's public Node API (the clone
// tool's backupToDir / restoreFromDir), in its own process so that its peak RSS is its own.
//
//   node bench/node_client.cjs backup  <root> <dir>   → <dir>/capabilities.json, <dir>/<bundle>/…
//   node bench/node_client.cjs restore <root> <dir>   ← the same folder, into the device at <root>
//   node bench/node_client.cjs idle                    the addon loaded, nothing done (RSS baseline)
//
// Prints one JSON line: {op, seconds, cpuSeconds, files, bytes, ok, maxRssKiB, ruMaxRssKiB, maxFds,
// startFds}. `seconds` and `cpuSeconds` (user + system, every thread) cover the API call alone,
// not Node's start-up. Fds are counted from /proc/self/fd in every progress call and every 5 ms
// on a timer. OHFILE_NATIVE chooses the addon (the bench passes the release build).
const fs = require('node:fs');
const clone = require('../node-binding/lib/tools/clone.js');

let maxFds = 0;
function sampleFds() {
  const n = fs.readdirSync('/proc/self/fd').length - 1; // minus the fd that lists them
  if (n > maxFds) maxFds = n;
}

// Peak RSS is VmHWM, the high-water mark of this process's own address space. maxRSS
// (getrusage) is also reported, but Linux carries it over exec from the parent that forked us, so
// under the bench runner it reads as the runner's RSS.
function vmHwmKiB() {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : -1;
}

function report(fields) {
  const usage = process.resourceUsage();
  process.stdout.write(`${JSON.stringify({ ...fields, maxRssKiB: vmHwmKiB(), ruMaxRssKiB: usage.maxRSS, maxFds })}\n`);
}

async function main() {
  const [op, root, dir] = process.argv.slice(2);
  sampleFds();
  const startFds = maxFds;
  if (op === 'idle') {
    await new Promise((r) => setTimeout(r, 100));
    sampleFds();
    report({ op, startFds });
    return 0;
  }
  if ((op !== 'backup' && op !== 'restore' && op !== 'incremental') || !root || !dir) {
    process.stderr.write('usage: node_client.cjs backup|restore <root> <dir> | incremental <root> <dir> <bundle> <previous.rp> <lastTime> | idle\n');
    return 2;
  }
  let files = 0;
  let bytes = 0;
  const progress = (p) => {
    files += 1;
    bytes += p.bytes;
    sampleFds();
  };
  const preparedCaps = op === 'incremental' ? await clone.capabilities(root) : undefined;
  const timer = setInterval(sampleFds, 5);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let result;
  try {
    if (op === 'incremental') {
      // An IncrementalBackupSession run against <previous.rp> ("-": none) taken at <lastTime>.
      const [bundle, previous, lastTime] = process.argv.slice(5);
      // The folder's capabilities.json is the clone tool's, not the backup's: made before the clock.
      const incremental = { previous: { [bundle]: previous === '-' ? null : previous }, lastTime: { [bundle]: Number(lastTime) } };
      result = await clone.backupToDir(root, dir, [bundle], progress, { incremental, capabilities: preparedCaps });
    } else {
      // The clone tool knows what it clones: the capability walk then overlaps the backup.
      result = op === 'backup' ? await clone.backupToDir(root, dir, [process.env.OHFILE_BENCH_BUNDLE || 'com.bench.s'], progress) : await clone.restoreFromDir(root, dir, null, progress);
    }
  } finally {
    clearInterval(timer);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  sampleFds();
  const bundles = result.bundles;
  const ok = Object.keys(bundles).length > 0 && Object.values(bundles).every((b) => b.ok);
  if (!ok) process.stderr.write(`node_client: ${op} failed: ${JSON.stringify(bundles)}\n`);
  report({ op, seconds, cpuSeconds, files, bytes, ok, startFds });
  return ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`node_client: ${e.stack || e}\n`);
    process.exitCode = 1;
  },
);
