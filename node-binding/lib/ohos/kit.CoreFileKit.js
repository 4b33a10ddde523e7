'use strict';
// `import { backup, fileIo } from '@kit.CoreFileKit'`
exports.backup = require('../backup');
exports.fileIo = require('../fs');
exports.BackupExtensionAbility = require('./application.BackupExtensionAbility.js');
