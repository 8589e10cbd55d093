import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../onnx/index.ts';
import {
  decodedPpocr,
  OUTPUT_TOLERANCE,
  ppocrModelNames,
  ppocrShapes,
  readPpocrModel,
  realFeeds,
  worstOutputError,
} from '../../../testing/index.ts';
import { normalizeModel, summarizeReport } from './index.ts';

describe.each(ppocrModelNames)('normalizeModel on the real PP-OCR %s model', (name) => {
  it('runs every step, reports it, leaves the input model unchanged and keeps the outputs', async () => {
    const model = decodedPpocr(name);
    const before = encodeModel(model);
    const { model: normalized, report } = normalizeModel(model, { inputShapes: { x: ppocrShapes[name] } });
    expect(Buffer.compare(Buffer.from(encodeModel(model)), Buffer.from(before))).toBe(0);
    expect(report.steps.map((s) => s.step)).toEqual([
      'hoistConstants',
      'float16ToFloat32',
      'foldBatchNorm',
      'fixInputShapes',
    ]);
    const g = normalized.graph!;
    expect(g.node!.filter((n) => n.opType === 'Constant')).toEqual([]);
    const bnLeft = g.node!.filter((n) => n.opType === 'BatchNormalization').length;
    const bnBefore = model.graph!.node!.filter((n) => n.opType === 'BatchNormalization').length;
    expect(report.steps[2].changed).toBe(bnBefore - bnLeft);
    const { worst, referenceMaxAbs } = await worstOutputError(
      readPpocrModel(name),
      encodeModel(normalized),
      await realFeeds(name),
    );
    expect(referenceMaxAbs).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(OUTPUT_TOLERANCE);
    console.log(
      `${name}: ${summarizeReport(report)}; BN left ${bnLeft}; worst output error ${worst.toExponential(2)}`,
    );
  });
});
