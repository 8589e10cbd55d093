import { useMemo, useState } from 'react';
import type { ModelSummary } from '../../worker/protocol.ts';
import { formatBytes } from '../state/classifyFiles.ts';
import { useStudio } from '../state/store.ts';

const shapeText = (shape: (number | string)[]) => `[${shape.join(', ')}]`;
const bitChoices = [2, 3, 4, 5, 6, 8];

/** 1234 → 1.2k, 2_400_000 → 2.4M: the table's size column stays narrow. */
function compactCount(count: number): string {
  if (count >= 1e6) return `${(count / 1e6).toFixed(1)}M`;
  if (count >= 1e4) return `${Math.round(count / 1e3)}k`;
  if (count >= 1e3) return `${(count / 1e3).toFixed(1)}k`;
  return String(count);
}

function ModelFacts({ model }: { model: ModelSummary }) {
  return (
    <dl className="facts" data-testid="model-facts">
      <dt>File</dt>
      <dd>
        {model.fileName} ({formatBytes(model.fileBytes)})
      </dd>
      <dt>Task</dt>
      <dd>{model.task}</dd>
      <dt>Preset</dt>
      <dd title={model.preset.reason}>
        {model.preset.name}
        {model.preset.size ? ` at ${model.preset.size[0]}×${model.preset.size[1]}` : ''}:{' '}
        {model.preset.reason}
      </dd>
      <dt>IR / opsets</dt>
      <dd>
        IR {model.irVersion};{' '}
        {model.opsets.map((opset) => `${opset.domain || 'ai.onnx'} ${opset.version}`).join(', ')}
      </dd>
      <dt>Producer</dt>
      <dd>{model.producer || '—'}</dd>
      <dt>Inputs</dt>
      <dd>
        {model.inputs.map((input) => `${input.name} ${input.elemType} ${shapeText(input.shape)}`).join('; ')}
      </dd>
      <dt>Outputs</dt>
      <dd>
        {model.outputs
          .map((output) => `${output.name} ${output.elemType} ${shapeText(output.shape)}`)
          .join('; ')}
      </dd>
      <dt>Parameters</dt>
      <dd>{model.parameters.toLocaleString('en')}</dd>
      <dt>Layers</dt>
      <dd>
        {model.layers.length} quantizable
        {model.branchLayers?.length
          ? ` + ${model.branchLayers.length} inside If branches (see Model inputs)`
          : ''}
        {model.skipped.length > 0 ? `, ${model.skipped.length} skipped` : ''}
      </dd>
    </dl>
  );
}

type SortKey = 'index' | 'size' | 'error' | 'sensitivity';

const SORTS: { key: SortKey; label: string; title: string }[] = [
  { key: 'index', label: '#', title: 'graph order' },
  { key: 'size', label: 'params', title: 'sort by size (weights in the layer), largest first' },
  { key: 'error', label: 'error', title: 'sort by the final relative error, largest first' },
  {
    key: 'sensitivity',
    label: '÷ RTN',
    title:
      'sort by sensitivity: final error ÷ RTN error, largest first (1 = the solver could not beat round-to-nearest)',
  },
];

/** The bits a layer gets from the settings (before a run) or got (after): override, first/last, default. */
function plannedBits(
  index: number,
  count: number,
  override: { keepFloat?: boolean; bits?: number },
  bits: number,
  firstLastBits: number | null,
): number | 'float' {
  if (override.keepFloat) return 'float';
  if (override.bits !== undefined) return override.bits;
  if (firstLastBits !== null && (index === 0 || index === count - 1)) return firstLastBits;
  return bits;
}

/** Model facts and the layer table, with per-layer keep-float and bit-width toggles. */
export function ModelPanel() {
  const model = useStudio((state) => state.model);
  const overrides = useStudio((state) => state.settings.overrides);
  const defaultBits = useStudio((state) => state.settings.bits);
  const firstLastBits = useStudio((state) => state.settings.firstLastBits);
  const running = useStudio((state) => state.progress.status === 'running');
  const layerReports = useStudio((state) => state.progress.layerReports);
  const layerOverrideChanged = useStudio((state) => state.layerOverrideChanged);
  const [sort, setSort] = useState<SortKey>('index');
  const reportByName = useMemo(
    () => new Map(layerReports.map((layer) => [layer.name, layer])),
    [layerReports],
  );

  const rows = useMemo(() => {
    if (!model) return [];
    const entries = model.layers.map((layer, index) => {
      const report = reportByName.get(layer.name);
      const quantized = report !== undefined && report.bits !== 'float';
      return {
        layer,
        index,
        report,
        error: quantized ? report.relError : Number.NaN,
        sensitivity: quantized && report.rtnRelError > 0 ? report.relError / report.rtnRelError : Number.NaN,
      };
    });
    if (sort === 'index') return entries;
    // Largest first; layers without the number (not yet solved, kept in float) last, in graph order.
    const value = (entry: (typeof entries)[number]) =>
      sort === 'size' ? entry.layer.params : sort === 'error' ? entry.error : entry.sensitivity;
    return [...entries].sort((a, b) => {
      const va = value(a);
      const vb = value(b);
      if (Number.isNaN(va) !== Number.isNaN(vb)) return Number.isNaN(va) ? 1 : -1;
      return (Number.isNaN(va) ? 0 : vb - va) || a.index - b.index;
    });
  }, [model, reportByName, sort]);

  if (!model) {
    return (
      <section className="panel" data-testid="model-panel" aria-labelledby="model-heading">
        <h2 id="model-heading">Model</h2>
        <p className="hint">No model yet: load the demo or pick an .onnx file.</p>
      </section>
    );
  }
  const sortHeader = (key: SortKey) => {
    const entry = SORTS.find((s) => s.key === key)!;
    return (
      <th aria-sort={sort === key ? (key === 'index' ? 'ascending' : 'descending') : 'none'}>
        <button
          type="button"
          className={`sort${sort === key ? ' active' : ''}`}
          title={entry.title}
          data-testid={`sort-${key}`}
          onClick={() => setSort(key)}
        >
          {entry.label}
          {sort === key ? (key === 'index' ? ' ↑' : ' ↓') : ''}
        </button>
      </th>
    );
  };
  return (
    <section className="panel" data-testid="model-panel" aria-labelledby="model-heading">
      <h2 id="model-heading">Model</h2>
      <ModelFacts model={model} />
      <p className="hint">
        Per-layer results: relative error ‖XŴ − XW‖²/‖XW‖² after the solver, and ÷ RTN, how it compares with
        round-to-nearest (lower is better). Click a column title to sort. ⚠: fewer calibration rows than
        inputs (the fit is over-fitted).
      </p>
      <div className="table-scroll">
        <table className="layer-table" data-testid="layer-table" data-sort={sort}>
          <colgroup>
            <col className="c-index" />
            <col className="c-name" />
            <col className="c-params" />
            <col className="c-float" />
            <col className="c-bits" />
            <col className="c-error" />
            <col className="c-ratio" />
            <col className="c-final" />
          </colgroup>
          <thead>
            <tr>
              {sortHeader('index')}
              <th>layer</th>
              {sortHeader('size')}
              <th title="keep this layer in float (not quantized)">float</th>
              <th title="bits of this layer: the default (from the settings, first/last layer rule) or an override">
                bits
              </th>
              <th title="relative error of round-to-nearest, the solver's starting point">RTN</th>
              {sortHeader('sensitivity')}
              {sortHeader('error')}
            </tr>
          </thead>
          <tbody>
            {rows.map(({ layer, index, report, sensitivity }) => {
              const override = overrides[layer.name] ?? {};
              const planned = plannedBits(index, model.layers.length, override, defaultBits, firstLastBits);
              const bits = report ? report.bits : planned;
              const deficient =
                report !== undefined && report.bits !== 'float' && report.gramRows < report.reduction;
              return (
                <tr key={layer.name} data-layer={layer.name} data-bits={String(bits)}>
                  <td>{index}</td>
                  <td
                    className="layer-name"
                    title={`${layer.name}: ${layer.op} ${shapeText(layer.weightShape)}, ${layer.groups} group(s), ${layer.params.toLocaleString('en')} weights${deficient ? `; Gram from ${report.gramRows} rows < ${report.reduction} inputs (rank-deficient)` : ''}`}
                  >
                    {deficient ? '⚠ ' : ''}
                    {layer.name}
                    <span className="layer-op"> {layer.op}</span>
                  </td>
                  <td>{compactCount(layer.params)}</td>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`keep ${layer.name} in float`}
                      checked={override.keepFloat === true}
                      disabled={running}
                      onChange={(event) =>
                        layerOverrideChanged(layer.name, { keepFloat: event.target.checked })
                      }
                    />
                  </td>
                  <td>
                    <select
                      aria-label={`bits for ${layer.name}`}
                      value={override.bits ?? ''}
                      disabled={running || override.keepFloat === true}
                      onChange={(event) =>
                        layerOverrideChanged(layer.name, {
                          bits: event.target.value === '' ? null : Number(event.target.value),
                        })
                      }
                    >
                      <option value="">
                        {override.bits === undefined
                          ? planned === 'float'
                            ? 'float'
                            : `W${planned}`
                          : 'default'}
                      </option>
                      {bitChoices.map((choice) => (
                        <option key={choice} value={choice}>
                          W{choice}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>{report && report.bits !== 'float' ? report.rtnRelError.toExponential(1) : ''}</td>
                  <td className={sensitivity >= 0.999 ? 'no-gain' : ''}>
                    {Number.isNaN(sensitivity) ? '' : sensitivity.toFixed(2)}
                  </td>
                  <td data-testid="final-error">
                    {report
                      ? report.bits === 'float'
                        ? 'float'
                        : `${report.relError.toExponential(1)} (W${report.bits})`
                      : ''}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {model.skipped.length > 0 && (
        <details>
          <summary>{model.skipped.length} node(s) not quantized</summary>
          <ul>
            {model.skipped.map((node) => (
              <li key={node.name}>
                {node.name} ({node.op}): {node.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
