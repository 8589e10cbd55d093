import type { ReactNode } from 'react';
import type { RunSettings } from '../../worker/protocol.ts';
import { BIT_WIDTHS, presetNames } from '../../worker/protocol.ts';
import { useStudio } from '../state/store.ts';

function Field({ label, children, hint }: { label: string; children: ReactNode; hint?: string }) {
  return (
    <label className="field" title={hint}>
      <span>{label}</span>
      {children}
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
        <Field label="method">
          <select
            data-testid="setting-method"
            value={settings.method}
            onChange={(event) => set('method', event.target.value as RunSettings['method'])}
          >
            <option value="comq">COMQ</option>
            <option value="gptq">GPTQ</option>
            <option value="gptq+comq">GPTQ then COMQ</option>
            <option value="rtn">RTN</option>
          </select>
        </Field>
        <Field label="bits">
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
        <Field label="grid">
          <select
            value={settings.grid}
            onChange={(event) => set('grid', event.target.value as RunSettings['grid'])}
          >
            <option value="asymmetric">asymmetric</option>
            <option value="symmetric">symmetric</option>
          </select>
        </Field>
        <Field label="group size" hint="inputs per scale; empty = one scale per output channel">
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
        <Field label="sweeps" hint="COMQ passes over the coordinates">
          <input
            type="number"
            data-testid="setting-sweeps"
            min={1}
            max={20}
            value={settings.sweeps}
            onChange={(event) => set('sweeps', numberOr(event.target.value, 1))}
          />
        </Field>
        <Field label="order">
          <select
            value={settings.order}
            onChange={(event) => set('order', event.target.value as RunSettings['order'])}
          >
            <option value="shared">shared</option>
            <option value="greedy">greedy</option>
            <option value="cyclic">cyclic</option>
          </select>
        </Field>
        <Field label="clipping" hint="fraction of the min–max range the grid covers">
          <input
            type="number"
            min={0.5}
            max={1}
            step={0.01}
            value={settings.clip}
            onChange={(event) => set('clip', numberOr(event.target.value, 1))}
          />
        </Field>
        <Field label="scale step" hint="also update scales between sweeps">
          <input
            type="checkbox"
            checked={settings.scaleStep}
            onChange={(event) => set('scaleStep', event.target.checked)}
          />
        </Field>
        <Field
          label="mode"
          hint="float: every layer sees float inputs; sequential: each layer sees the quantized layers before it"
        >
          <select
            value={settings.mode}
            onChange={(event) => set('mode', event.target.value as RunSettings['mode'])}
          >
            <option value="float">float</option>
            <option value="sequential">sequential</option>
          </select>
        </Field>
        <Field label="calibration images">
          <input
            type="number"
            data-testid="setting-calibration"
            min={1}
            value={settings.calibrationCount}
            onChange={(event) => set('calibrationCount', numberOr(event.target.value, 1))}
          />
        </Field>
        <Field label="evaluation images" hint="held out from calibration">
          <input
            type="number"
            data-testid="setting-evaluation"
            min={0}
            value={settings.evaluationCount}
            onChange={(event) => set('evaluationCount', numberOr(event.target.value, 0))}
          />
        </Field>
        <Field label="first/last layer">
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
        <Field label="preprocessing">
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
        <Field label="size H×W" hint="for inputs with symbolic height/width; empty = the preset's default">
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
        <Field label="backend">
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
