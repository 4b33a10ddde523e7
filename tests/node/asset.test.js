'use strict';
// @ohos.security.asset through the register hook: the enums' numbers, the AssetMap conversion,
// Promise and *Sync forms, BusinessError codes, the calling app ($OHFILE_BUNDLE), the
// user-authentication flow and @kit.ArkTS's util.
require('ohfile/register');
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const asset = require('@ohos.security.asset');
const { asset: kitAsset } = require('@kit.AssetStoreKit');
const { util } = require('@kit.ArkTS');
const ohfile = require('ohfile');
const { makeDevice, removeTree } = require('./helpers');

const BUNDLE = 'com.example.notes';
const enc = new util.TextEncoder();
const dec = util.TextDecoder.create('utf-8');
const b = (s) => enc.encodeInto(s);
const str = (u) => dec.decodeToString(u);

let root;
test.before(() => {
  root = makeDevice({
    device: { deviceType: 'phone', lockScreenPasswordSet: true },
    apps: { [BUNDLE]: { config: { allowToBackupRestore: true } } },
  });
  process.env.OHFILE_ROOT = root;
  process.env.OHFILE_BUNDLE = BUNDLE;
});
test.after(() => removeTree(root));

/** Runs `fn` with an environment variable changed (undefined: unset), restoring it after. */
async function withEnv(name, value, fn) {
  const old = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (old === undefined) delete process.env[name];
    else process.env[name] = old;
  }
}

function attrs(alias, secret, extra = []) {
  return new Map([[asset.Tag.SECRET, b(secret)], [asset.Tag.ALIAS, b(alias)], ...extra]);
}

function byAlias(alias, extra = []) {
  return new Map([[asset.Tag.ALIAS, b(alias)], ...extra]);
}

/** Asserts that `fn` throws (synchronously) a BusinessError with `code`. */
function throwsCode(fn, code) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Error);
    assert.equal(typeof e.code, 'number');
    assert.equal(e.code, code, e.message);
    return true;
  });
}

async function rejectsCode(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Error);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

test('every enum has OpenHarmony\'s numbers and is frozen', () => {
  assert.deepEqual({ ...asset.TagType }, { BOOL: 268435456, NUMBER: 536870912, BYTES: 805306368 });
  assert.deepEqual({ ...asset.Tag }, {
    SECRET: 0x30000001, ALIAS: 0x30000002, ACCESSIBILITY: 0x20000003, REQUIRE_PASSWORD_SET: 0x10000004,
    AUTH_TYPE: 0x20000005, AUTH_VALIDITY_PERIOD: 0x20000006, AUTH_CHALLENGE: 0x30000007, AUTH_TOKEN: 0x30000008,
    SYNC_TYPE: 0x20000010, IS_PERSISTENT: 0x10000011,
    DATA_LABEL_CRITICAL_1: 0x30000020, DATA_LABEL_CRITICAL_2: 0x30000021, DATA_LABEL_CRITICAL_3: 0x30000022, DATA_LABEL_CRITICAL_4: 0x30000023,
    DATA_LABEL_NORMAL_1: 0x30000030, DATA_LABEL_NORMAL_2: 0x30000031, DATA_LABEL_NORMAL_3: 0x30000032, DATA_LABEL_NORMAL_4: 0x30000033,
    DATA_LABEL_NORMAL_LOCAL_1: 0x30000034, DATA_LABEL_NORMAL_LOCAL_2: 0x30000035, DATA_LABEL_NORMAL_LOCAL_3: 0x30000036, DATA_LABEL_NORMAL_LOCAL_4: 0x30000037,
    RETURN_TYPE: 0x20000040, RETURN_LIMIT: 0x20000041, RETURN_OFFSET: 0x20000042, RETURN_ORDERED_BY: 0x20000043,
    CONFLICT_RESOLUTION: 0x20000044, UPDATE_TIME: 0x30000045, OPERATION_TYPE: 0x20000046,
    REQUIRE_ATTR_ENCRYPTED: 0x10000047, GROUP_ID: 0x30000048, WRAP_TYPE: 0x20000049,
  });
  assert.equal(asset.Tag.SECRET, 805306369); // the decimal the docs print
  assert.deepEqual({ ...asset.Accessibility }, { DEVICE_POWERED_ON: 0, DEVICE_FIRST_UNLOCKED: 1, DEVICE_UNLOCKED: 2 });
  assert.deepEqual({ ...asset.AuthType }, { NONE: 0, ANY: 255 });
  assert.deepEqual({ ...asset.SyncType }, { NEVER: 0, THIS_DEVICE: 1, TRUSTED_DEVICE: 2, TRUSTED_ACCOUNT: 4 });
  assert.deepEqual({ ...asset.ConflictResolution }, { OVERWRITE: 0, THROW_ERROR: 1 });
  assert.deepEqual({ ...asset.ReturnType }, { ALL: 0, ATTRIBUTES: 1 });
  assert.deepEqual({ ...asset.OperationType }, { NEED_SYNC: 0, NEED_LOGOUT: 1 });
  assert.deepEqual({ ...asset.WrapType }, { NEVER: 0, TRUSTED_ACCOUNT: 1 });
  const codes = Object.values(asset.ErrorCode);
  const expected = [201, 202, 401];
  for (let c = 24000001; c <= 24000019; c++) expected.push(c);
  assert.deepEqual(codes, expected);
  assert.equal(asset.ErrorCode.PARAM_VERIFICATION_FAILED, 24000018);
  assert.equal(asset.ErrorCode.NOT_SYSTEM_APPLICATION, 202);
  for (const e of [asset.Tag, asset.TagType, asset.Accessibility, asset.AuthType, asset.SyncType, asset.ConflictResolution, asset.ReturnType, asset.OperationType, asset.WrapType, asset.ErrorCode]) {
    assert.ok(Object.isFrozen(e));
  }
});

test('@kit.AssetStoreKit, @ohos.security.asset and the package export are one module', () => {
  assert.equal(kitAsset, asset);
  assert.equal(ohfile.asset, asset);
  for (const f of ['add', 'addSync', 'remove', 'removeSync', 'update', 'updateSync', 'preQuery', 'preQuerySync', 'query', 'querySync', 'postQuery', 'postQuerySync', 'querySyncResult']) {
    assert.equal(typeof asset[f], 'function', f);
  }
});

test('@kit.ArkTS util: TextEncoder.encodeInto(str) returns the bytes; TextDecoder.create().decodeToString', () => {
  const bytes = new util.TextEncoder().encodeInto('démo');
  assert.ok(bytes instanceof Uint8Array);
  assert.deepEqual([...bytes], [0x64, 0xc3, 0xa9, 0x6d, 0x6f]);
  assert.equal(new util.TextEncoder().encodeInto().length, 0);
  const dest = new Uint8Array(3);
  assert.deepEqual(new util.TextEncoder().encodeInto('abcd', dest), { read: 3, written: 3 }); // WHATWG form
  assert.deepEqual(util.TextEncoder.create('utf-8').encodeIntoUint8Array('xy', dest), { read: 2, written: 2 });
  throwsCode(() => new util.TextEncoder('gbk'), 401);
  assert.equal(util.TextDecoder.create('utf-8', { ignoreBOM: true }).decodeToString(bytes, { stream: false }), 'démo');
  assert.equal(util.TextDecoder.create().decodeWithStream(bytes), 'démo');
  assert.match(util.generateRandomUUID(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(util.format('%s=%d', 'a', 1), 'a=1');
  assert.equal(require('@ohos.util'), util);
});

test('add, query, update, remove (Promise forms): values come back as they are typed', async () => {
  const label = b('demo_label');
  await asset.add(attrs('demo_alias', 'demo_pwd', [
    [asset.Tag.DATA_LABEL_NORMAL_1, label],
    [asset.Tag.SYNC_TYPE, asset.SyncType.TRUSTED_DEVICE],
    [asset.Tag.REQUIRE_PASSWORD_SET, false],
  ]));
  const [row, ...rest] = await asset.query(byAlias('demo_alias', [[asset.Tag.RETURN_TYPE, asset.ReturnType.ALL]]));
  assert.equal(rest.length, 0);
  assert.ok(row instanceof Map);
  const secret = row.get(asset.Tag.SECRET);
  assert.equal(secret.constructor, Uint8Array); // a plain Uint8Array, not a Buffer
  assert.equal(str(secret), 'demo_pwd');
  assert.equal(str(row.get(asset.Tag.DATA_LABEL_NORMAL_1)), 'demo_label');
  assert.equal(row.get(asset.Tag.SYNC_TYPE), 2);
  assert.equal(row.get(asset.Tag.REQUIRE_PASSWORD_SET), false);
  assert.equal(row.get(asset.Tag.ACCESSIBILITY), asset.Accessibility.DEVICE_FIRST_UNLOCKED);
  const updated = Number(str(row.get(asset.Tag.UPDATE_TIME)));
  assert.ok(Math.abs(updated - Date.now()) < 60_000, `UPDATE_TIME ${updated}`);

  // Attributes only: no secret.
  const [attrsOnly] = await asset.query(byAlias('demo_alias'));
  assert.equal(attrsOnly.has(asset.Tag.SECRET), false);
  assert.equal(str(attrsOnly.get(asset.Tag.ALIAS)), 'demo_alias');

  assert.equal(await asset.update(byAlias('demo_alias'), new Map([[asset.Tag.SECRET, b('new_pwd')]])), undefined);
  const [after] = await asset.query(byAlias('demo_alias', [[asset.Tag.RETURN_TYPE, asset.ReturnType.ALL]]));
  assert.equal(str(after.get(asset.Tag.SECRET)), 'new_pwd');

  assert.equal(await asset.remove(byAlias('demo_alias')), undefined);
  await rejectsCode(asset.query(byAlias('demo_alias')), 24000002);
  await rejectsCode(asset.remove(byAlias('demo_alias')), 24000002);
});

test('the *Sync forms return values and throw BusinessErrors', () => {
  assert.equal(asset.addSync(attrs('sync_alias', 'pwd1')), undefined);
  throwsCode(() => asset.addSync(attrs('sync_alias', 'pwd2')), 24000003);
  asset.addSync(attrs('sync_alias', 'pwd2', [[asset.Tag.CONFLICT_RESOLUTION, asset.ConflictResolution.OVERWRITE]]));
  const rows = asset.querySync(byAlias('sync_alias', [[asset.Tag.RETURN_TYPE, asset.ReturnType.ALL]]));
  assert.equal(rows.length, 1);
  assert.equal(str(rows[0].get(asset.Tag.SECRET)), 'pwd2');
  asset.updateSync(byAlias('sync_alias'), new Map([[asset.Tag.DATA_LABEL_NORMAL_LOCAL_1, b('local')]]));
  assert.equal(str(asset.querySync(byAlias('sync_alias'))[0].get(asset.Tag.DATA_LABEL_NORMAL_LOCAL_1)), 'local');
  throwsCode(() => asset.updateSync(byAlias('sync_alias'), new Map([[asset.Tag.DATA_LABEL_CRITICAL_1, b('x')]])), 401);
  throwsCode(() => asset.querySync(new Map([[asset.Tag.RETURN_TYPE, asset.ReturnType.ALL]])), 24000017);
  asset.removeSync(byAlias('sync_alias'));
  throwsCode(() => asset.querySync(byAlias('sync_alias')), 24000002);
  throwsCode(() => asset.removeSync(byAlias('sync_alias')), 24000002);
});

test('limit, offset and ordering by a label', async () => {
  for (const [alias, label] of [['o1', 'c'], ['o2', 'a'], ['o3', 'b']]) {
    await asset.add(attrs(alias, 'pw', [[asset.Tag.DATA_LABEL_NORMAL_2, b(label)], [asset.Tag.DATA_LABEL_NORMAL_3, b('batch')]]));
  }
  const q = (extra) => new Map([[asset.Tag.DATA_LABEL_NORMAL_3, b('batch')], ...extra]);
  const ordered = await asset.query(q([[asset.Tag.RETURN_ORDERED_BY, asset.Tag.DATA_LABEL_NORMAL_2]]));
  assert.deepEqual(ordered.map((r) => str(r.get(asset.Tag.ALIAS))), ['o2', 'o3', 'o1']);
  const page = await asset.query(q([[asset.Tag.RETURN_ORDERED_BY, asset.Tag.DATA_LABEL_NORMAL_2], [asset.Tag.RETURN_LIMIT, 1], [asset.Tag.RETURN_OFFSET, 1]]));
  assert.deepEqual(page.map((r) => str(r.get(asset.Tag.ALIAS))), ['o3']);
  throwsCode(() => asset.querySync(q([[asset.Tag.RETURN_LIMIT, 0]])), 401);
  await asset.remove(q([]));
  await rejectsCode(asset.query(q([])), 24000002);
});

test('large attributes and answers cross intact (the facade\'s buffers grow and are reused)', async () => {
  const label = (i, k) => new Uint8Array(2048).fill(i * 4 + k + 1);
  const labels = [asset.Tag.DATA_LABEL_NORMAL_1, asset.Tag.DATA_LABEL_NORMAL_2, asset.Tag.DATA_LABEL_NORMAL_3];
  const big = (i) => attrs(`big${i}`, 'x'.repeat(1024), [...labels.map((t, k) => [t, label(i, k)]), [asset.Tag.DATA_LABEL_NORMAL_4, b('big')]]);
  for (let i = 0; i < 12; i++) {
    if (i % 2) await asset.add(big(i));
    else asset.addSync(big(i));
  }
  const q = new Map([[asset.Tag.DATA_LABEL_NORMAL_4, b('big')]]);
  const check = (rows) => {
    assert.equal(rows.length, 12);
    for (const row of rows) {
      const i = Number(str(row.get(asset.Tag.ALIAS)).slice(3));
      labels.forEach((t, k) => assert.deepEqual(row.get(t), label(i, k)));
    }
  };
  check(asset.querySync(q)); // ~74 KiB: more than the answer buffer holds at first
  check(asset.querySync(q)); // now it fits
  check(await asset.query(q));
  // An update packs two maps one after the other; a second one larger than the buffer grows it,
  // keeping the first.
  const locals = [asset.Tag.DATA_LABEL_NORMAL_LOCAL_1, asset.Tag.DATA_LABEL_NORMAL_LOCAL_2, asset.Tag.DATA_LABEL_NORMAL_LOCAL_3, asset.Tag.DATA_LABEL_NORMAL_LOCAL_4];
  const wide = new Map([...labels, ...locals].map((t, k) => [t, label(5, k)]));
  asset.updateSync(byAlias('big0', [[asset.Tag.DATA_LABEL_NORMAL_4, b('big')]]), wide);
  const [row] = asset.querySync(byAlias('big0'));
  [...labels, ...locals].forEach((t, k) => assert.deepEqual(row.get(t), label(5, k)));
  await asset.remove(q);
});

test('argument errors are 401, thrown at once by the Promise forms too', async () => {
  for (const bad of [undefined, null, {}, [[asset.Tag.ALIAS, b('x')]], 'map']) {
    throwsCode(() => asset.add(bad), 401);
    throwsCode(() => asset.addSync(bad), 401);
    throwsCode(() => asset.query(bad), 401);
  }
  // Values that are none of boolean | u32 | Uint8Array, and keys that are no tag.
  for (const v of [-1, 1.5, 2 ** 32, 'text', [1, 2], new Uint16Array(2), null]) {
    throwsCode(() => asset.add(new Map([[asset.Tag.SECRET, b('s')], [asset.Tag.ALIAS, b('a')], [asset.Tag.SYNC_TYPE, v]])), 401);
  }
  throwsCode(() => asset.removeSync(new Map([['ALIAS', b('a')]])), 401);
  // The core's rules: a value of the wrong type for its tag, a tag the function does not take,
  // a missing secret, out-of-range numbers and lengths (in and out of bounds).
  await rejectsCode(asset.add(new Map([[asset.Tag.SECRET, b('s')], [asset.Tag.ALIAS, 5]])), 401);
  await rejectsCode(asset.add(new Map([[asset.Tag.ALIAS, b('a')]])), 401);
  await rejectsCode(asset.add(attrs('a', 's', [[asset.Tag.RETURN_LIMIT, 5]])), 401);
  await rejectsCode(asset.add(attrs('a', 's', [[asset.Tag.SYNC_TYPE, 8]])), 401);
  await rejectsCode(asset.add(attrs('a', 'x'.repeat(1025))), 401);
  await rejectsCode(asset.add(attrs('a'.repeat(257), 's')), 401);
  await asset.add(attrs('a'.repeat(256), 'x'.repeat(1024), [[asset.Tag.SYNC_TYPE, 7]]));
  await asset.remove(byAlias('a'.repeat(256)));
  await rejectsCode(asset.add(attrs('', 's')), 401);
  await rejectsCode(asset.postQuery(new Map()), 401);
});

test('querySyncResult: {0, 0, 0} before any sync; its argument errors are 24000018 through the Promise', async () => {
  assert.deepEqual(await asset.querySyncResult(new Map()), { resultCode: 0, totalCount: 0, failedCount: 0 });
  assert.deepEqual(await asset.querySyncResult(new Map([[asset.Tag.REQUIRE_ATTR_ENCRYPTED, true]])), { resultCode: 0, totalCount: 0, failedCount: 0 });
  const bad = [
    undefined,
    {},
    new Map([[asset.Tag.ALIAS, b('demo_alias')]]), // a tag it does not take
    new Map([[asset.Tag.GROUP_ID, 7]]), // wrong value type
    new Map([[asset.Tag.REQUIRE_ATTR_ENCRYPTED, b('x')]]),
    new Map([[asset.Tag.GROUP_ID, b('short')]]), // 5 bytes, 7..127 needed
    new Map([[asset.Tag.REQUIRE_ATTR_ENCRYPTED, -1]]),
  ];
  for (const q of bad) {
    let p;
    assert.doesNotThrow(() => {
      p = asset.querySyncResult(q);
    });
    await rejectsCode(p, 24000018);
  }
});

test('the calling app is $OHFILE_BUNDLE: without it every call is 24000011, with a message saying so', async () => {
  await withEnv('OHFILE_BUNDLE', undefined, async () => {
    await rejectsCode(asset.add(attrs('x', 'y')), 24000011);
    await rejectsCode(asset.querySyncResult(new Map()), 24000011);
    throwsCode(() => asset.querySync(byAlias('x')), 24000011);
    await assert.rejects(asset.query(byAlias('x')), /OHFILE_BUNDLE/);
  });
  // Apps are kept apart.
  await asset.add(attrs('mine', 'secret_of_notes'));
  await withEnv('OHFILE_BUNDLE', 'com.example.other', async () => {
    await rejectsCode(asset.query(byAlias('mine')), 24000002);
  });
  await asset.remove(byAlias('mine'));
  await withEnv('OHFILE_BUNDLE', '../evil', async () => {
    throwsCode(() => asset.querySync(byAlias('x')), 401);
  });
  await withEnv('OHFILE_ROOT', path.join(root, 'missing'), async () => {
    await rejectsCode(asset.query(byAlias('x')), 24000001);
  });
});

test('AuthType ANY: preQuery → user authentication → query with challenge and token → postQuery', async () => {
  await asset.add(attrs('auth_alias', 'auth_pwd', [[asset.Tag.AUTH_TYPE, asset.AuthType.ANY]]));
  const pre = byAlias('auth_alias', [[asset.Tag.AUTH_TYPE, asset.AuthType.ANY], [asset.Tag.AUTH_VALIDITY_PERIOD, 60]]);
  const challenge = await asset.preQuery(pre);
  assert.equal(challenge.constructor, Uint8Array);
  assert.equal(challenge.length, 32);
  const token = await ohfile.assetUserAuth.authenticate(challenge);
  assert.ok(token instanceof Uint8Array && token.length > 0);
  const all = (extra) => byAlias('auth_alias', [[asset.Tag.RETURN_TYPE, asset.ReturnType.ALL], ...extra]);
  const [row] = await asset.query(all([[asset.Tag.AUTH_CHALLENGE, challenge], [asset.Tag.AUTH_TOKEN, token]]));
  assert.equal(str(row.get(asset.Tag.SECRET)), 'auth_pwd');
  // A forged token is refused.
  const forged = Uint8Array.from(token, (x) => x ^ 1);
  await rejectsCode(asset.query(all([[asset.Tag.AUTH_CHALLENGE, challenge], [asset.Tag.AUTH_TOKEN, forged]])), 24000004);
  await asset.postQuery(new Map([[asset.Tag.AUTH_CHALLENGE, challenge]]));

  // The same with the Sync forms.
  const c2 = asset.preQuerySync(pre);
  assert.equal(c2.length, 32);
  assert.notDeepEqual(c2, challenge);
  const t2 = await ohfile.assetUserAuth.authenticate(c2);
  assert.equal(str(asset.querySync(all([[asset.Tag.AUTH_CHALLENGE, c2], [asset.Tag.AUTH_TOKEN, t2]]))[0].get(asset.Tag.SECRET)), 'auth_pwd');
  asset.postQuerySync(new Map([[asset.Tag.AUTH_CHALLENGE, c2]]));
  // After postQuery the session is gone: its challenge and token no longer open the secret.
  await assert.rejects(asset.query(all([[asset.Tag.AUTH_CHALLENGE, c2], [asset.Tag.AUTH_TOKEN, t2]])), (e) => [24000004, 24000002].includes(e.code));
  // No token for a closed session, or for a value no preQuery of this app issued.
  await rejectsCode(ohfile.assetUserAuth.authenticate(c2), 24000004);
  await rejectsCode(ohfile.assetUserAuth.authenticate(new Uint8Array(32).fill(7)), 24000004);
  await rejectsCode(ohfile.assetUserAuth.authenticate(c2.subarray(1)), 401);
  await asset.remove(byAlias('auth_alias'));
});

test('the lock state of device.json applies: DEVICE_UNLOCKED secrets are out of reach while locked', async () => {
  await asset.add(attrs('unlocked_only', 'u_pwd', [[asset.Tag.ACCESSIBILITY, asset.Accessibility.DEVICE_UNLOCKED]]));
  const file = path.join(root, 'device.json');
  const before = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(before), screenLocked: true }));
  try {
    await rejectsCode(asset.query(byAlias('unlocked_only', [[asset.Tag.RETURN_TYPE, asset.ReturnType.ALL]])), 24000005);
  } finally {
    fs.writeFileSync(file, before);
  }
  const [row] = await asset.query(byAlias('unlocked_only', [[asset.Tag.RETURN_TYPE, asset.ReturnType.ALL]]));
  assert.equal(str(row.get(asset.Tag.SECRET)), 'u_pwd');
  await asset.remove(byAlias('unlocked_only'));
});

test('the Promise forms leave the JS thread free while the store works', async () => {
  let ticks = 0;
  let running = true;
  const tick = () => {
    ticks += 1;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  const adds = [];
  for (let i = 0; i < 40; i++) adds.push(asset.add(attrs(`bulk_${i}`, `pwd_${i}`)));
  // Nothing has settled synchronously: each call returned a pending Promise.
  let settled = 0;
  for (const p of adds) p.then(() => (settled += 1));
  await Promise.resolve();
  assert.equal(settled, 0);
  await Promise.all(adds);
  running = false;
  assert.ok(ticks > 0, 'the event loop turned while the adds ran');
  assert.equal((await asset.query(new Map([[asset.Tag.RETURN_LIMIT, 100]]))).length >= 40, true);
  for (let i = 0; i < 40; i++) asset.removeSync(byAlias(`bulk_${i}`));
});
