/**
 * Where the `deskbridge` command is, for the type generator and the tests: `$DESKBRIDGE`, else the
 * repository's virtual environment (`.venv/`, as `python3 dev.py setup` makes it), else the one on PATH.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const venv = fileURLToPath(new URL('../../../.venv/', import.meta.url));
const inVenv = venv + (process.platform === 'win32' ? 'Scripts/deskbridge.exe' : 'bin/deskbridge');

export const DESKBRIDGE = process.env.DESKBRIDGE || (existsSync(inVenv) ? inVenv : 'deskbridge');
