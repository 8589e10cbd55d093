import type { ReactNode } from 'react';
import type { RunSettings } from '../../worker/protocol.ts';
import { BIT_WIDTHS, defaultQuantizeOptions, presetNames } from '../../worker/protocol.ts';
import { defaultRunSettings } from '../state/settings.ts';
import { useStudio } from '../state/store.ts';
import { PreprocessFields } from './PreprocessFields.tsx';

const d = defaultRunSettings;
const GIB = 2 ** 30;

/**
 * One sentence per setting, with its default: shown under the control (and as its tooltip), so a
 * first-time user reads what each knob does where they turn it.
 */
export const SETTING_HELP = {
  method: `How weights are rounded: COMQ (coordinate descent on the layer's output error), GPTQ (error feedback column by column), GPTQ then COMQ, AdaRound (learned rounding, slower), BRECQ (COMQ, then each block's roundings learned on the block's output, slowest), or plain round-to-nearest (RTN). Default: ${d.method.toUpperCase()}.`,
  bits: `Bits per weight: 2^bits grid points per scale; fewer bits, smaller model, larger error. Default: W${d.bits}.`,
  grid: `Asymmetric grids fit [min, max] with a zero point; symmetric ones are centred on 0 (no zero point). Default: ${d.grid}.`,
  groupSize:
    'Inputs that share one scale; empty gives one scale per output channel (the default), smaller groups track the weights more closely at a few more bytes.',
  sweeps: `Passes of the solver over every weight of a layer; each pass can only lower the error. Default: ${d.sweeps}.`,
  order: `Which weight COMQ visits next: greedy (largest |w|·√G_jj first, per row) or cyclic (input order, the same for every row). Default: ${d.order}.`,
  clip: `Fraction of each row's min–max range the grid covers; below 1 clips outliers for finer steps. Default: ${d.clip}.`,
  scaleStep: `Also re-fit each row's scale between sweeps (COMQ's scale step). Default: ${d.scaleStep ? 'on' : 'off'}.`,
  mode: `float: every layer is calibrated on float activations; sequential: each layer sees the already quantized layers before it. Default: ${d.mode}.`,
  calibrationCount: `Images whose activations build each layer's Gram XᵀX (more rows than a layer's inputs avoid over-fitting). Default: ${d.calibrationCount}.`,
  evaluationCount: `Images held out from calibration to compare the quantized model with the float one. Default: ${d.evaluationCount}.`,
  firstLastBits: `Bits for the first and last quantizable layer, which are the most sensitive. Default: ${d.firstLastBits === null ? 'same as bits' : `${d.firstLastBits} bits`}.`,
  preset:
    "How images become the model's input tensor (resize, mean/std, layout). Default: the preset the studio guessed from the model.",
  size: "Input height × width for models with symbolic sizes; empty uses the model's suggested size (shown greyed) or the preset's default.",
  memoryBudget: `Memory the run plans for: capture passes and Grams are sized to it, and a model that cannot fit is refused before any work. Default: ${defaultQuantizeOptions.memoryBudget / GIB} GiB.`,
  backend: `Where the solvers run: auto picks WebGPU on a hardware adapter and the CPU otherwise. Default: ${d.backend}.`,
} as const;

function Field({ label, children, help }: { label: string; children: ReactNode; help: string }) {
  return (
    <label className="field" title={help}>
      <span className="field-label">{label}</span>
      {children}
      <small className="help">{help}</small>
    </label>
  );
}

const numberOr = (text: string, fallback: number) =>
  text.trim() === '' || Number.isNaN(Number(text)) ? fallback : Number(text);

/** Every run setting of RunSettings, as one form. Per-layer toggles live in the layer table. */
export function SettingsPanel() {
  const settings = useStudio((state) => state.settings);
  const running = useStudio((state) => state.progress.status === 'running');
  const change = useStudio((state) => state.settingsChanged);
  const set = <K extends keyof RunSettings>(key: K, value: RunSettings[K]) =>
    change({ [key]: value } as Partial<RunSettings>);
  const size = settings.preprocess.size;
  // Shown as placeholders: the size the studio uses when the fields are left empty.
  const suggested = useStudio((state) => state.model?.preset.size);

  return (
    <section className="panel" data-testid="settings" aria-labelledby="settings-heading">
      <h2 id="settings-heading">2. Settings</h2>
      <fieldset disabled={running} className="settings-grid">
        <Field label="method" help={SETTING_HELP.method}>
          <select
            data-testid="setting-method"
            value={settings.method}
            onChange={(event) => set('method', event.target.value as RunSettings['method'])}
          >
            <option value="comq">COMQ</option>
            <option value="gptq">GPTQ</option>
            <option value="gptq+comq">GPTQ then COMQ</option>
            <option value="rtn">RTN</option>
            <option value="adaround">AdaRound (slow: hundreds of iterations per layer)</option>
            <option value="brecq">BRECQ block reconstruction (slowest: up to 2 min per model)</option>
          </select>
        </Field>
        <Field label="bits" help={SETTING_HELP.bits}>
          <select
            data-testid="setting-bits"
            value={settings.bits}
            onChange={(event) => set('bits', Number(event.target.value))}
          >
            {BIT_WIDTHS.map((bits) => (
              <option key={bits} value={bits}>
                W{bits}
              </option>
            ))}
          </select>
        </Field>
        <Field label="grid" help={SETTING_HELP.grid}>
          <select
            value={settings.grid}
            onChange={(event) => set('grid', event.target.value as RunSettings['grid'])}
          >
            <option value="asymmetric">asymmetric</option>
            <option value="symmetric">symmetric</option>
          </select>
        </Field>
        <Field label="group size" help={SETTING_HELP.groupSize}>
          <input
            type="number"
            min={1}
            placeholder="per channel"
            value={settings.groupSize ?? ''}
            onChange={(event) =>
              set('groupSize', event.target.value === '' ? undefined : Number(event.target.value))
            }
          />
        </Field>
        <Field label="sweeps" help={SETTING_HELP.sweeps}>
          <input
            type="number"
            data-testid="setting-sweeps"
            min={1}
            max={20}
            value={settings.sweeps}
            onChange={(event) => set('sweeps', numberOr(event.target.value, 1))}
          />
        </Field>
        <Field label="order" help={SETTING_HELP.order}>
          <select
            value={settings.order}
            onChange={(event) => set('order', event.target.value as RunSettings['order'])}
          >
            <option value="shared">shared</option>
            <option value="greedy">greedy</option>
            <option value="cyclic">cyclic</option>
          </select>
        </Field>
        <Field label="clipping" help={SETTING_HELP.clip}>
          <input
            type="number"
            min={0.5}
            max={1}
            step={0.01}
            value={settings.clip}
            onChange={(event) => set('clip', numberOr(event.target.value, 1))}
          />
        </Field>
        <Field label="scale step" help={SETTING_HELP.scaleStep}>
          <input
            type="checkbox"
            checked={settings.scaleStep}
            onChange={(event) => set('scaleStep', event.target.checked)}
          />
        </Field>
        <Field label="mode" help={SETTING_HELP.mode}>
          <select
            value={settings.mode}
            onChange={(event) => set('mode', event.target.value as RunSettings['mode'])}
          >
            <option value="float">float</option>
            <option value="sequential">sequential</option>
          </select>
        </Field>
        <Field label="calibration images" help={SETTING_HELP.calibrationCount}>
          <input
            type="number"
            data-testid="setting-calibration"
            min={1}
            value={settings.calibrationCount}
            onChange={(event) => set('calibrationCount', numberOr(event.target.value, 1))}
          />
        </Field>
        <Field label="evaluation images" help={SETTING_HELP.evaluationCount}>
          <input
            type="number"
            data-testid="setting-evaluation"
            min={0}
            value={settings.evaluationCount}
            onChange={(event) => set('evaluationCount', numberOr(event.target.value, 0))}
          />
        </Field>
        <Field label="first/last layer" help={SETTING_HELP.firstLastBits}>
          <select
            value={settings.firstLastBits ?? ''}
            onChange={(event) =>
              set('firstLastBits', event.target.value === '' ? null : Number(event.target.value))
            }
          >
            <option value="">same bits</option>
            <option value="8">8 bits</option>
          </select>
        </Field>
        <Field label="preprocessing" help={SETTING_HELP.preset}>
          <select
            data-testid="setting-preset"
            value={settings.preprocess.preset}
            onChange={(event) => set('preprocess', { ...settings.preprocess, preset: event.target.value })}
          >
            {presetNames.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </Field>
        <PreprocessFields />
        <Field label="size H×W" help={SETTING_HELP.size}>
          <span className="size-pair">
            <input
              type="number"
              data-testid="setting-height"
              min={1}
              aria-label="height"
              placeholder={suggested ? String(suggested[0]) : 'default'}
              value={size?.[0] ?? ''}
              onChange={(event) =>
                set('preprocess', {
                  ...settings.preprocess,
                  size:
                    event.target.value === ''
                      ? undefined
                      : [Number(event.target.value), size?.[1] ?? Number(event.target.value)],
                })
              }
            />
            ×
            <input
              type="number"
              data-testid="setting-width"
              min={1}
              aria-label="width"
              placeholder={suggested ? String(suggested[1]) : 'default'}
              value={size?.[1] ?? ''}
              onChange={(event) =>
                set('preprocess', {
                  ...settings.preprocess,
                  size:
                    event.target.value === ''
                      ? undefined
                      : [size?.[0] ?? Number(event.target.value), Number(event.target.value)],
                })
              }
            />
          </span>
        </Field>
        <Field label="memory budget" help={SETTING_HELP.memoryBudget}>
          <select
            data-testid="setting-memoryBudget"
            value={settings.memoryBudget ?? defaultQuantizeOptions.memoryBudget}
            onChange={(event) => set('memoryBudget', Number(event.target.value))}
          >
            {[1, 2, 4, 8].map((gib) => (
              <option key={gib} value={gib * GIB}>
                {gib} GiB
              </option>
            ))}
          </select>
        </Field>
        <Field label="backend" help={SETTING_HELP.backend}>
          <select
            data-testid="setting-backend"
            value={settings.backend}
            onChange={(event) => set('backend', event.target.value as RunSettings['backend'])}
          >
            <option value="auto">auto</option>
            <option value="webgpu">WebGPU</option>
            <option value="cpu">CPU</option>
          </select>
        </Field>
      </fieldset>
    </section>
  );
}
