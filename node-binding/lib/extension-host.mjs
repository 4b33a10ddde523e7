// `node extension-host.mjs <absolute module path>`: runs an app's BackupExtensionAbility for the
// ohfile service. Loads the module, instantiates its default export, prints {"ready":true}, then
// answers hook requests, one JSON object per line (docs/extension-protocol.md).
import './register.mjs';
import { createRequire, register } from 'node:module';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';

// The protocol owns stdout: everything the app prints goes to stderr, which the service passes on.
const writeProtocol = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr);

const require = createRequire(import.meta.url);
const SPECIFIER = '@ohos.application.BackupExtensionAbility';
const abilityFile = require.resolve('./ohos/application.BackupExtensionAbility.js');
const BackupExtensionAbility = require(abilityFile);

const HOOKS = new Set([
  'onBackup',
  'onBackupEx',
  'onRestore',
  'onRestoreEx',
  'onProcess',
  'getBackupInfo',
  'onRelease',
  'getBackupCompatibilityInfo',
  'getRestoreCompatibilityInfo',
]);
const UNKNOWN_METHOD = 13900020;

resolveAbilitySpecifier();

const modulePath = process.argv[2];
if (!modulePath) {
  console.error('usage: node extension-host.mjs <absolute module path>');
  process.exit(2);
}

const ability = await load(modulePath);
send({ ready: true });

const requests = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
requests.on('line', (line) => {
  // Each request runs on its own, so onProcess is answered while onBackupEx is still pending.
  void serve(line);
});
// The service closes stdin to stop the extension.
requests.on('close', () => process.exit(0));

/** Makes the base class importable and requirable even where specifiers.js does not list it. */
function resolveAbilitySpecifier() {
  const url = pathToFileURL(abilityFile).href;
  const hook =
    `export async function resolve(specifier, context, next) {` +
    ` return specifier === ${JSON.stringify(SPECIFIER)}` +
    ` ? { url: ${JSON.stringify(url)}, shortCircuit: true } : next(specifier, context); }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);

  const Module = require('node:module');
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function resolveAbility(request, ...rest) {
    return resolveFilename.call(this, request === SPECIFIER ? abilityFile : request, ...rest);
  };
}

/** Imports the app's module and instantiates its default export; exits 1 if that fails. */
async function load(file) {
  try {
    const ns = await import(pathToFileURL(file).href);
    let Ability = ns.default;
    // A CommonJS module that sets `exports.default`.
    if (typeof Ability !== 'function' && Ability && typeof Ability.default === 'function') {
      Ability = Ability.default;
    }
    if (typeof Ability !== 'function') {
      throw new Error(`${file} has no default export class (a subclass of BackupExtensionAbility)`);
    }
    const instance = new Ability();
    if (!(instance.context && typeof instance.context.backupDir === 'string')) {
      // Not a subclass of the base class: give it the context anyway.
      instance.context = new BackupExtensionAbility().context;
    }
    return instance;
  } catch (e) {
    // The stack first; the last line is the one the service quotes in its error.
    if (e && e.stack) console.error(e.stack);
    console.error(`extension-host: cannot load ${file}: ${(e && e.message) || e}`);
    process.exit(1);
  }
}

/** Answers one request line. */
async function serve(line) {
  if (!line.trim()) return;
  let request;
  try {
    request = JSON.parse(line);
  } catch {
    console.error(`extension-host: ignoring a request that is not JSON: ${line.slice(0, 200)}`);
    return;
  }
  const { id, method, args } = request || {};
  if (!Number.isSafeInteger(id) || id < 0) {
    console.error(`extension-host: ignoring a request without a valid id: ${line.slice(0, 200)}`);
    return;
  }
  if (typeof method !== 'string' || !HOOKS.has(method)) {
    send({ id, error: { message: `unknown method: ${method}`, code: UNKNOWN_METHOD } });
    return;
  }
  const hook = ability[method];
  if (typeof hook !== 'function') {
    send({ id, result: null });
    return;
  }
  try {
    const result = await hook.apply(ability, Array.isArray(args) ? args : []);
    send({ id, result: toJson(result) });
  } catch (e) {
    // The app's own error codes are not forwarded: to the service any throw is 13500007.
    const message = e instanceof Error ? e.message : String(e);
    send({ id, error: { message } });
  }
}

/** A hook's value as protocol JSON: nothing (undefined, a function) is null. */
function toJson(value) {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return null;
  return value;
}

/** Writes one protocol line; a value JSON cannot carry becomes an error reply. */
function send(message) {
  let line;
  try {
    line = JSON.stringify(message);
  } catch (e) {
    line = JSON.stringify({ id: message.id, error: { message: `the hook's result is not JSON: ${e.message}` } });
  }
  writeProtocol(`${line}\n`);
}
