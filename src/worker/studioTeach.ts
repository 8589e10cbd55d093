/**
 * The finished run, looked at closely (issue 13, "a studio that teaches"): any held-out image
 * through the float and the quantized model side by side, the held-out images ranked by how much
 * there is to see, and a quantized layer's rounding ŵ − w as a small heatmap. Everything is read
 * from the run the studio kept (FinishedRun: its models, QuantizedLayer[] and report) and the
 * loaded inputs; the two onnxruntime sessions are opened on first use and released with the run.
 */
import type { ModelInputInfo } from '../core/calibration/inputs/index.ts';
import type { InferenceSession, TensorData } from '../core/base/ports.ts';
import { tensorToFloat32 } from '../core/onnx/index.ts';
import type { FinishedRun, SampleSource } from '../core/run/index.ts';
import { StudioError, reasonOf } from './errors.ts';
import type { EvaluationChoice, EvaluationSampleView, RoundingHeatmap } from './protocol.ts';
import {
  isSpatialMap,
  mapDifferenceToRgba,
  mapMass,
  mapToRgba,
  outputSummary,
  roundingCells,
  tensorToRgba,
  tensorToRgbaMinMax,
  topClasses,
} from './render.ts';
import type { InputStore } from './studioInputs.ts';
import type { LoadedModel } from './studioModel.ts';

type OutputKind = 'top5' | 'maps' | 'summary';

export class RunViews {
  private sessions: Promise<{ float: InferenceSession; quantized: InferenceSession }> | undefined;
  private choices: Promise<EvaluationChoice[]> | undefined;

  constructor(
    private readonly run: FinishedRun,
    private readonly inputs: InputStore,
    private readonly model: LoadedModel,
    private readonly labels: readonly string[] | undefined,
    /** The run's text-line crop source, when a crop detector calibrated it (names are crops, not images). */
    private readonly crops?: SampleSource,
  ) {}

  /** The held-out images (the calibration ones when none were held out), in the report's order. */
  private heldOut(): string[] {
    const record = this.run.report.inputs;
    return record.evaluation.length > 0 ? record.evaluation : record.calibration;
  }

  private task(): 'classifier' | 'detector' | 'generic' {
    return this.run.report.eval?.task ?? this.model.summary.task;
  }

  private openSessions(): Promise<{ float: InferenceSession; quantized: InferenceSession }> {
    this.sessions ??= (async () => {
      const { engine, models } = this.run;
      // 'basic': as the evaluation itself (no int8 fusions of onnxruntime's own).
      const float = await engine.createSession(models.normalized.bytes(), { optimization: 'basic' });
      try {
        const quantized = await engine.createSession(models.quantized.bytes(), { optimization: 'basic' });
        return { float, quantized };
      } catch (error) {
        await float.release();
        throw error;
      }
    })();
    return this.sessions;
  }

  /** One held-out image's feeds and its picture as the model saw it. */
  private async sample(
    name: string,
  ): Promise<{ feeds: Record<string, TensorData>; picture: EvaluationSampleView['input'] }> {
    if (!this.heldOut().includes(name))
      throw new StudioError({
        kind: 'image',
        subject: name,
        message: `${name} was not held out in the last run: pick one of its evaluation images.`,
      });
    const record = this.run.report.inputs;
    const input = this.model.facts.inputs[0] as ModelInputInfo;
    try {
      const set =
        this.crops && (record.preprocess || record.kind === 'npy')
          ? await this.crops.open([name], {
              input,
              inputs: [input],
              spec: record.preprocess,
              purpose: 'evaluation',
            })
          : record.kind === 'images' && record.preprocess
            ? this.inputs.imageSet([name], input.name, record.preprocess)
            : await this.inputs.npySet([name], input);
      for await (const sample of set.samples()) {
        const tensor = sample.feeds[input.name];
        const picture =
          record.kind === 'images' && record.preprocess
            ? tensorToRgba(tensor, record.preprocess)
            : tensorToRgbaMinMax(tensor);
        return { feeds: sample.feeds, picture };
      }
    } catch (error) {
      throw new StudioError({ kind: 'image', subject: name, message: reasonOf(error) }, { cause: error });
    }
    throw new StudioError({
      kind: 'image',
      subject: name,
      message: `${name} could not be read again; add it again.`,
    });
  }

  private outputKind(primary: TensorData): OutputKind {
    const task = this.task();
    if (task === 'classifier') return 'top5';
    if ((task === 'detector' && primary.dims.length >= 2) || isSpatialMap(primary.dims)) return 'maps';
    return 'summary';
  }

  /** Held-out images, most informative first (largest float-map mass, or most confident top-1). */
  evaluationChoices(): Promise<EvaluationChoice[]> {
    this.choices ??= (async () => {
      const { float } = await this.openSessions();
      const primaryName = float.outputNames[0];
      const scored: EvaluationChoice[] = [];
      for (const name of this.heldOut()) {
        const { feeds } = await this.sample(name);
        const primary = (await float.run(feeds, [primaryName]))[primaryName];
        const kind = this.outputKind(primary);
        const score =
          kind === 'maps'
            ? mapMass(primary)
            : kind === 'top5'
              ? (topClasses(primary, 1)[0]?.probability ?? 0)
              : 0;
        scored.push({ name, score });
      }
      // Stable: equal scores keep the report's order.
      return scored
        .map((choice, order) => ({ choice, order }))
        .sort((a, b) => b.choice.score - a.choice.score || a.order - b.order)
        .map(({ choice }) => choice);
    })();
    this.choices.catch(() => {
      this.choices = undefined;
    });
    return this.choices;
  }

  async evaluationSample(name: string): Promise<EvaluationSampleView> {
    const { feeds, picture } = await this.sample(name);
    const { float, quantized } = await this.openSessions();
    const primaryName = float.outputNames[0];
    const floatOut = (await float.run(feeds, [primaryName]))[primaryName];
    const quantOut = (await quantized.run(feeds, [primaryName]))[primaryName];
    if (!floatOut || !quantOut)
      throw new StudioError({
        kind: 'run',
        subject: name,
        message: `The models returned no '${primaryName}' for ${name}; run the quantization again.`,
      });
    switch (this.outputKind(floatOut)) {
      case 'top5':
        return {
          name,
          input: picture,
          output: {
            kind: 'top5',
            float: topClasses(floatOut, 5, this.labels),
            quantized: topClasses(quantOut, 5, this.labels),
          },
        };
      case 'maps': {
        const floatMap = mapToRgba(floatOut);
        const quantMap = mapToRgba(quantOut);
        const diff = mapDifferenceToRgba(floatOut, quantOut);
        return {
          name,
          input: picture,
          output: {
            kind: 'maps',
            width: floatMap.width,
            height: floatMap.height,
            floatRgba: floatMap.rgba,
            quantRgba: quantMap.rgba,
            diffRgba: diff.rgba,
            diffMax: diff.max,
            floatMass: mapMass(floatOut),
            quantMass: mapMass(quantOut),
          },
        };
      }
      default:
        return {
          name,
          input: picture,
          output: {
            kind: 'summary',
            text: `float ${outputSummary(primaryName, floatOut)}\nquantized ${outputSummary(primaryName, quantOut)}`,
          },
        };
    }
  }

  roundingHeatmap(layer: string, maxRows: number, maxCols: number): RoundingHeatmap {
    const quantized = this.run.layers.find((entry) => entry.name === layer);
    if (!quantized)
      throw new StudioError({
        kind: 'run',
        subject: layer,
        message: `${layer} was not quantized in the last run (kept in float or skipped): no rounding to show.`,
      });
    const initializer = this.run.models.normalized.proto.graph?.initializer?.find(
      (tensor) => tensor.name === quantized.weightName,
    );
    if (!initializer)
      throw new StudioError({
        kind: 'run',
        subject: layer,
        message: `The float weight ${quantized.weightName} of ${layer} is not an initializer of the normalised model.`,
      });
    const cells = roundingCells(
      quantized.dequantized,
      tensorToFloat32(initializer, this.model.externalData),
      quantized.weightShape,
      maxRows,
      maxCols,
    );
    return { layer, bits: quantized.bits, ...cells };
  }

  async release(): Promise<void> {
    const sessions = this.sessions;
    this.sessions = undefined;
    this.choices = undefined;
    if (!sessions) return;
    const opened = await sessions.catch(() => undefined);
    await opened?.float.release().catch(() => undefined);
    await opened?.quantized.release().catch(() => undefined);
  }
}
