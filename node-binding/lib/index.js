'use strict';
// require('ohfile') / import { backup } from 'ohfile'
const native = require('./native');

exports.backup = require('./backup');
exports.fileIo = require('./fs');
exports.version = native.version();
