/**
 * The floor arrows bite: each deliberate violation below, linted as if it sat at the given path,
 * is reported by `floors/arrows`, and the allowed counterpart is not.
 */
import { join, resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const eslint = new ESLint({ cwd: root });

async function floorMessages(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return result.messages.filter((m) => m.ruleId === 'floors/arrows').map((m) => m.message);
}

const cases: { path: string; bad: string; good: string; why: RegExp }[] = [
  {
    path: 'src/core/pipeline/probe.ts',
    bad: "import { x } from '../../hosts/node/ortNode.ts';",
    good: "import { x } from '../base/ports.ts';",
    why: /host folder/,
  },
  {
    path: 'src/core/evaluation/probe.ts',
    bad: "import { x } from '../../cli/main.ts';",
    good: "import { x } from './metrics.ts';",
    why: /shells/,
  },
  {
    path: 'src/core/graph/probe.ts',
    bad: "import { readFileSync } from 'node:fs';",
    good: "import { x } from '../onnx/index.ts';",
    why: /Node built-ins/,
  },
  {
    path: 'src/core/calibration/probe.ts',
    bad: "import * as ort from 'onnxruntime-node';",
    good: "import type { InferenceEngine } from '../base/ports.ts';",
    why: /onnxruntime/,
  },
  {
    path: 'src/core/backend/webgpu/probe.ts',
    bad: "import { create } from 'webgpu';",
    good: "import { x } from '../../base/ports.ts';",
    why: /GPU bindings/,
  },
  {
    path: 'src/core/export/probe.ts',
    bad: "import { tinyModel } from '../../testing/index.ts';",
    good: "import { x } from './verify.ts';",
    why: /test kits/,
  },
  {
    path: 'src/core/backend/cpu/probe.ts',
    bad: "import { solveComq } from '../../quant/comq.ts';",
    good: "import { x } from '../../base/ports.ts';",
    why: /backend must not import src\/core\/quant/,
  },
  {
    path: 'src/core/backend/cpu/probe.test.ts',
    bad: "import { solveComq } from '../../quant/comq.ts';",
    good: "import { x } from './cpuBackend.ts';",
    why: /backend must not import src\/core\/quant/,
  },
  {
    path: 'src/core/quant/probe.ts',
    bad: "import { quantizeModel } from '../pipeline/index.ts';",
    good: "import { x } from '../base/ports.ts';",
    why: /quant must not import/,
  },
  {
    path: 'src/core/onnx/probe.ts',
    bad: "import { findLayers } from '../graph/layers/index.ts';",
    good: "import { x } from './codec.ts';",
    why: /codec/,
  },
  {
    path: 'src/core/base/probe.ts',
    bad: "import { decodeModel } from '../onnx/index.ts';",
    good: "import type { x } from './ports.ts';",
    why: /ground floor/,
  },
  {
    path: 'src/app/probe.ts',
    bad: "import { presetNames } from '../core/calibration/inputs/presets.ts';",
    good: "import type { LayerReport } from '../core/pipeline/types.ts';",
    why: /src\/app talks only/,
  },
  {
    path: 'src/app/components/probe.tsx',
    bad: "import { StudioError } from '../../worker/errors.ts';",
    good: "import { createStudioClient } from '../../worker/client.ts';",
    why: /src\/app talks only/,
  },
];

describe('floors/arrows', () => {
  for (const c of cases) {
    it(`${c.path}: "${c.bad}" is refused, "${c.good}" passes`, async () => {
      const bad = await floorMessages(c.path, `${c.bad}\nexport const y = x;\n`.replace('x;', "'probe';"));
      expect(bad).toHaveLength(1);
      expect(bad[0]).toMatch(c.why);
      expect(await floorMessages(c.path, `${c.good}\nexport const y = 'probe';\n`)).toEqual([]);
    });
  }

  it('tests in the core may use vitest and test kits; sources may not', async () => {
    const kit =
      "import { describe } from 'vitest';\nimport { tinyModel } from '../../testing/index.ts';\nexport const y = [describe, tinyModel];\n";
    expect(await floorMessages('src/core/graph/probe.test.ts', kit)).toEqual([]);
    expect(await floorMessages('src/core/graph/probe.ts', kit)).toHaveLength(2);
  });

  it('dynamic imports and re-exports are checked too', async () => {
    expect(
      await floorMessages(
        'src/core/run/probe.ts',
        "export const m = () => import('../../hosts/node/ortNode.ts');\n",
      ),
    ).toHaveLength(1);
    expect(
      await floorMessages('src/core/run/probe.ts', "export { x } from '../../worker/protocol.ts';\n"),
    ).toHaveLength(1);
  });
});
