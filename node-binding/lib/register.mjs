// `node --import ohfile/register app.mjs`: makes import (and require) resolve the OpenHarmony
// specifiers.
import { register } from 'node:module';
import './register.cjs';

register('./resolve-hooks.mjs', import.meta.url);
