'use strict';
// `import { backup, fileIo, cloudSync, fileUri } from '@kit.CoreFileKit'`
exports.backup = require('../backup');
exports.fileIo = require('../fs');
exports.cloudSync = require('../cloudsync');
exports.fileUri = require('../fileuri');
exports.BackupExtensionAbility = require('./application.BackupExtensionAbility.js');
