/**
 * The import arrows eslint.config.js enforces must bite: a deliberate violation, linted as if it
 * sat at the forbidden place, is reported, and the same import from an allowed place is not.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './paths.ts';

async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: repoRoot });
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('lint arrows', () => {
  it('src/core/backend ↛ src/core/quant (tests included), while quant → backend is allowed', async () => {
    const fromBackend = await restrictedImports('src/core/backend/cpu/probe.test.ts', "import { solveLayer } from '../../quant/solve.ts';\nexport const probe = solveLayer;\n");
    expect(fromBackend).toHaveLength(1);
    expect(fromBackend[0]).toMatch(/must not import src\/core\/quant/);
    const fromQuant = await restrictedImports('src/core/quant/probe.ts', "import { openCpuLayer } from '../backend/cpu/layerKernels.ts';\nexport const probe = openCpuLayer;\n");
    expect(fromQuant).toEqual([]);
  });
});
