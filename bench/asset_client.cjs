'use strict';
// The Node side of the asset bench (bench/asset.mjs): N assets added, queried by alias (the secret
// back) and removed through '@ohos.security.asset' as an app calls it, with the *Sync forms and
// with the Promise forms (each awaited before the next). Prints one JSON line: seconds per
// operation and form. The device is $OHFILE_ROOT, the app $OHFILE_BUNDLE, the addon $OHFILE_NATIVE.
//   node bench/asset_client.cjs <assets>
require('../node-binding/lib/register.cjs');
const asset = require('@ohos.security.asset');

const n = Number(process.argv[2]);
const enc = new TextEncoder();
// The inputs are made before the clock starts, as asset_bench.rs makes its own: the timed loops
// measure the calls (each with its AssetMap, as an app makes one per call).
const aliases = Array.from({ length: n }, (_, i) => enc.encode(`bench-alias-${String(i).padStart(6, '0')}`));
const secrets = Array.from({ length: n }, (_, i) => enc.encode(`bench-secret-${String(i).padStart(19, '0')}`)); // 32 bytes

const addMap = (i) => new Map([[asset.Tag.SECRET, secrets[i]], [asset.Tag.ALIAS, aliases[i]]]);
const queryMap = (i) => new Map([[asset.Tag.ALIAS, aliases[i]], [asset.Tag.RETURN_TYPE, asset.ReturnType.ALL]]);
const removeMap = (i) => new Map([[asset.Tag.ALIAS, aliases[i]]]);

function check(rows, i) {
  if (rows.length !== 1 || rows[0].get(asset.Tag.SECRET).length !== 32) throw new Error(`query ${i}: wrong answer`);
}

function seconds(t0) {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function main() {
  const out = { assets: n, sync: {}, promise: {} };
  let t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) asset.addSync(addMap(i));
  out.sync.add = seconds(t);
  t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) check(asset.querySync(queryMap(i)), i);
  out.sync.query = seconds(t);
  t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) asset.removeSync(removeMap(i));
  out.sync.remove = seconds(t);

  t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await asset.add(addMap(i));
  out.promise.add = seconds(t);
  t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) check(await asset.query(queryMap(i)), i);
  out.promise.query = seconds(t);
  t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await asset.remove(removeMap(i));
  out.promise.remove = seconds(t);
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
