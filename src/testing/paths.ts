/** Repository-relative locations for Node-only test helpers (resolved from this file, not the cwd). */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
