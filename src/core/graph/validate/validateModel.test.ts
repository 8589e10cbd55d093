import { describe, expect, it } from 'vitest';
import Long from 'long';
import { DataType, decodeModel, float32Tensor, OnnxFormatError, type ModelProto } from '../../onnx/index.ts';
import { readPpocrModel, ppocrModelNames } from '../../../testing/models.ts';
import { roundTripModel } from '../../../testing/onnxBuilders.ts';
import { attr, node, valueInfo } from '../../../testing/tinyModel.ts';
import { badModelCases, validConvModel, validMatMulModel } from '../../../testing/badModels.ts';
import { assertValidModel, MODEL_PROBLEM_KINDS, ModelValidationError, validateModel } from './index.ts';

/** Each message must end by telling the user what to do. */
const SAYS_WHAT_TO_DO = /re-export|re-download|fix |rename|remove|add the|raise|give the|make its|register/;

describe('validateModel on valid models', () => {
  it('finds nothing in the corpus base models, as built and after an encode/decode round trip', () => {
    for (const model of [validConvModel(), validMatMulModel()]) {
      expect(validateModel(model)).toEqual([]);
      expect(validateModel(roundTripModel(model))).toEqual([]);
    }
  });

  it('finds nothing in the three PP-OCR models (no false positives on real exports)', () => {
    for (const name of ppocrModelNames) {
      expect(validateModel(decodeModel(readPpocrModel(name))), name).toEqual([]);
    }
  });

  it('accepts nodes listed out of order (onnxruntime sorts them) and an initializer that is also an input', () => {
    const model = validConvModel();
    model.graph!.node!.reverse();
    model.graph!.input!.push(valueInfo('B', DataType.FLOAT, [6]));
    expect(validateModel(model)).toEqual([]);
  });

  it('lets an If branch read values of the graph around it, and checks what the branch itself reads', () => {
    const branch = (reads: string) => ({
      name: `branch_${reads}`,
      node: [node('Identity', [reads], ['out'], [], `id_${reads}`)],
      output: [valueInfo('out', DataType.FLOAT, [])],
    });
    const model = validConvModel();
    model.graph!.initializer!.push({ name: 'cond', dims: [], dataType: DataType.BOOL, int32Data: [1] });
    model.graph!.node!.push({
      opType: 'If',
      name: 'if1',
      input: ['cond'],
      output: ['z'],
      attribute: [
        { name: 'then_branch', type: 5, g: branch('c') },
        { name: 'else_branch', type: 5, g: branch('y') },
      ],
    });
    model.graph!.output!.push(valueInfo('z', DataType.FLOAT, []));
    expect(validateModel(model)).toEqual([]);
    model.graph!.node![2].attribute![1].g = branch('elsewhere');
    const problems = validateModel(model);
    expect(problems.map((p) => p.kind)).toEqual(['undefined-input']);
    expect(problems[0].message).toMatch(
      /'id_elsewhere'.*'elsewhere'.*in the body of graph 'branch_elsewhere'/,
    );
  });
});

describe('validateModel on the generated corpus of bad models', () => {
  it('covers every problem kind', () => {
    expect(new Set(badModelCases.map((c) => c.kind))).toEqual(new Set(MODEL_PROBLEM_KINDS));
  });

  for (const badCase of badModelCases) {
    it(`${badCase.id}: reports '${badCase.kind}' first, naming the culprit and what to do`, () => {
      const problems = validateModel(badCase.build());
      expect(problems.length).toBeGreaterThan(0);
      const [first] = problems;
      expect(first.kind).toBe(badCase.kind);
      expect(first.message).toMatch(badCase.mentions);
      expect(first.message).toMatch(SAYS_WHAT_TO_DO);
      expect(first.message).not.toMatch(/\n/);
      // The same verdict after the model went through bytes, as it arrives from a file (unless
      // the decoder already refuses it, also as an input error).
      if (badCase.codecRefuses) expect(() => roundTripModel(badCase.build())).toThrow(OnnxFormatError);
      else expect(validateModel(roundTripModel(badCase.build()))[0]?.kind).toBe(badCase.kind);
    });
  }
});

describe('validateModel details', () => {
  it('names every node of a longer cycle in data-flow order, and not the nodes outside it', () => {
    const model = validConvModel();
    model.graph!.node = [
      model.graph!.node![0],
      node('Add', ['c', 'r3'], ['r1'], [], 'n1'),
      node('Relu', ['r1'], ['r2'], [], 'n2'),
      node('Sigmoid', ['r2'], ['r3'], [], 'n3'),
      node('Relu', ['r3'], ['y'], [], 'tail'),
    ];
    const problems = validateModel(model);
    expect(problems.map((p) => p.kind)).toEqual(['cycle']);
    expect(problems[0].message).toMatch(/'n\d' \(\w+\) → 'n\d' \(\w+\) → 'n\d' \(\w+\) feed/);
    for (const name of ['n1', 'n2', 'n3']) expect(problems[0].message).toContain(`'${name}'`);
    expect(problems[0].message).not.toMatch(/'tail'|'conv1'/);
  });

  it('checks the input budget without allocating it, against the given budget', () => {
    const model = validConvModel();
    model.graph!.input = [valueInfo('x', DataType.FLOAT, ['batch', 4, 512, 512])]; // 4 MiB at batch 1
    expect(validateModel(model)).toEqual([]);
    const problems = validateModel(model, { memoryBudgetBytes: 4 * 512 * 512 * 4 - 1 });
    expect(problems.map((p) => p.kind)).toEqual(['input-too-large']);
    expect(validateModel(model, { memoryBudgetBytes: 4 * 512 * 512 * 4 })).toEqual([]);
    // 2^62 elements: a number far beyond any allocation, still just a comparison.
    model.graph!.input = [valueInfo('x', DataType.FLOAT, [1, 4, 2 ** 30, 2 ** 30])];
    expect(validateModel(model).map((p) => p.kind)).toEqual(['input-too-large']);
  });

  it('counts packed int4 data per nibble: 5 values in 3 bytes are right', () => {
    const model = validConvModel();
    model.graph!.initializer!.push({
      name: 'codes',
      dims: [5],
      dataType: DataType.INT4,
      rawData: Uint8Array.from([0x21, 0x43, 0x05]),
    });
    expect(validateModel(model)).toEqual([]);
  });

  it('checks the Conv input channels only when they are known', () => {
    const model = validConvModel();
    model.graph!.node![0].attribute![0] = attr.int('group', 3); // 2 × 3 = 6 ≠ 4 channels of x
    model.graph!.input = [valueInfo('x', DataType.FLOAT, ['batch', 'channels', 8, 8])];
    expect(validateModel(model)).toEqual([]);
  });

  it('checks ConvTranspose groups against its weight [C_in, C_out/g, k...]', () => {
    const model = validConvModel();
    model.graph!.node![0] = node('ConvTranspose', ['x', 'Wt'], ['c'], [attr.int('group', 3)], 'deconv');
    model.graph!.initializer = [float32Tensor('Wt', [4, 2, 3, 3], new Float32Array(72).fill(0.1))];
    model.graph!.output = [valueInfo('y', DataType.FLOAT, ['batch', 6, 10, 10])];
    const problems = validateModel(model);
    expect(problems.map((p) => p.kind)).toEqual(['conv-groups']);
    expect(problems[0].message).toMatch(
      /ConvTranspose node 'deconv': group = 3 does not divide the 4 input channels of weight 'Wt'/,
    );
    model.graph!.node![0].attribute = [attr.int('group', 2)];
    expect(validateModel(model)).toEqual([]);
  });

  it('accepts a custom-domain op that a model-local function defines', () => {
    const model = validConvModel();
    Object.assign(model.graph!.node![1], { opType: 'MyRelu', domain: 'my.ops' });
    model.opsetImport!.push({ domain: 'my.ops', version: 1 });
    model.functions = [
      {
        name: 'MyRelu',
        domain: 'my.ops',
        input: ['a'],
        output: ['b'],
        node: [node('Relu', ['a'], ['b'])],
        opsetImport: [{ domain: '', version: 13 }],
      },
    ];
    expect(validateModel(model)).toEqual([]);
  });

  it('escapes control characters of model names in messages', () => {
    const model = validConvModel();
    model.graph!.node![1].input = ['gh\x1b[2Jost\nline'];
    const [problem] = validateModel(model);
    expect(problem.message).toContain("'gh\\x1b[2Jost\\nline'");
    expect(
      [...problem.message].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f),
    ).toBe(false);
  });
});

describe('validateModel never throws on malformed models', () => {
  const malformed: [string, () => ModelProto][] = [
    [
      'a node without inputs or outputs',
      () => {
        const m = validConvModel();
        m.graph!.node!.push({ opType: 'Relu' });
        return m;
      },
    ],
    [
      'a graph with nothing in it',
      () => ({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph: {} }),
    ],
    [
      'a Conv without a weight input',
      () => {
        const m = validConvModel();
        m.graph!.node![0].input = ['x'];
        return m;
      },
    ],
    [
      'a Conv weight of rank 1',
      () => {
        const m = validConvModel();
        m.graph!.initializer![0] = {
          name: 'W',
          dims: [108],
          dataType: DataType.FLOAT,
          floatData: Array(108).fill(0.1),
        };
        return m;
      },
    ],
    [
      'an input without a type',
      () => {
        const m = validConvModel();
        m.graph!.input![0] = { name: 'x' };
        return m;
      },
    ],
    [
      'an opset entry without a version',
      () => {
        const m = validConvModel();
        m.opsetImport = [{ domain: '' }];
        return m;
      },
    ],
    [
      'dims beyond 2^53 stored as int64',
      () => {
        const m = validConvModel();
        m.graph!.initializer![1].dims = [Long.fromString('1152921504606846976')];
        return m;
      },
    ],
  ];
  for (const [what, build] of malformed) {
    it(`${what}`, () => {
      expect(() => validateModel(build())).not.toThrow();
    });
  }
  it('reports the int64 dims beyond 2^53 as huge-dim, and an opset without version once', () => {
    expect(validateModel(malformed[6][1]()).map((p) => p.kind)).toEqual(['huge-dim']);
    expect(validateModel(malformed[5][1]()).map((p) => p.kind)).toEqual(['opset-unsupported']);
  });
});

describe('assertValidModel', () => {
  it('returns quietly for a valid model', () => {
    expect(() => assertValidModel(validConvModel())).not.toThrow();
  });

  it('throws one ModelValidationError: an input problem, one line naming the first problem and the count of the others', () => {
    const model = validConvModel();
    model.graph!.node![1].input = ['ghost'];
    model.opsetImport = [{ domain: '', version: 99 }];
    let caught: unknown;
    try {
      assertValidModel(model, {}, 'model.onnx');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ModelValidationError);
    const error = caught as ModelValidationError;
    expect(error.inputProblem).toBe(true);
    expect(error.problems.map((p) => p.kind)).toEqual(['undefined-input', 'opset-unsupported']);
    expect(error.message).toMatch(
      /^model\.onnx: invalid model: node 'relu1' \(Relu\) reads 'ghost'.*re-export.* \(1 more problem found\.\)$/,
    );
    expect(error.message.split('\n')).toHaveLength(1);
  });
});
