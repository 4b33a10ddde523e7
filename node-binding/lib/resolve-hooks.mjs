// ESM resolve hook (runs on Node's loader thread).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const specifiers = createRequire(import.meta.url)('./specifiers.js');

export async function resolve(specifier, context, nextResolve) {
  if (Object.prototype.hasOwnProperty.call(specifiers, specifier)) {
    return { url: pathToFileURL(specifiers[specifier]).href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
