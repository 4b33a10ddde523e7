'use strict';
// `node -r ohfile/register app.cjs`: makes require() resolve the OpenHarmony specifiers.
const Module = require('node:module');
const specifiers = require('./specifiers');

if (!Module._ohfileRegistered) {
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function resolveOhos(request, ...rest) {
    const target = Object.prototype.hasOwnProperty.call(specifiers, request) ? specifiers[request] : request;
    return resolve.call(this, target, ...rest);
  };
  Module._ohfileRegistered = true;
}
