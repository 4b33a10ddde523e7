'use strict';
// require('ohfile') / import { backup, cloudSync, asset } from 'ohfile'
const native = require('./native');

exports.backup = require('./backup');
exports.fileIo = require('./fs');
exports.cloudSync = require('./cloudsync');
exports.asset = require('./asset');
// ohfile's stand-in for OpenHarmony's user authentication (the AUTH_TOKEN of asset.query).
exports.assetUserAuth = require('./asset-auth');
exports.version = native.version();
