import { useMemo } from 'react';
import type { ModelSummary } from '../../worker/protocol.ts';
import { formatBytes } from '../state/classifyFiles.ts';
import { useStudio } from '../state/store.ts';

const shapeText = (shape: (number | string)[]) => `[${shape.join(', ')}]`;
const bitChoices = [2, 3, 4, 5, 6, 8];

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
        {model.layers.length} quantizable{model.skipped.length > 0 ? `, ${model.skipped.length} skipped` : ''}
      </dd>
    </dl>
  );
}

/** Model facts and the layer table, with per-layer keep-float and bit-width toggles. */
export function ModelPanel() {
  const model = useStudio((state) => state.model);
  const overrides = useStudio((state) => state.settings.overrides);
  const running = useStudio((state) => state.progress.status === 'running');
  const layerReports = useStudio((state) => state.progress.layerReports);
  const layerOverrideChanged = useStudio((state) => state.layerOverrideChanged);
  const reportByName = useMemo(
    () => new Map(layerReports.map((layer) => [layer.name, layer])),
    [layerReports],
  );

  if (!model) {
    return (
      <section className="panel" data-testid="model-panel" aria-labelledby="model-heading">
        <h2 id="model-heading">Model</h2>
        <p className="hint">No model yet: load the demo or pick an .onnx file.</p>
      </section>
    );
  }
  return (
    <section className="panel" data-testid="model-panel" aria-labelledby="model-heading">
      <h2 id="model-heading">Model</h2>
      <ModelFacts model={model} />
      <div className="table-scroll">
        <table className="layer-table" data-testid="layer-table">
          <thead>
            <tr>
              <th>#</th>
              <th>layer</th>
              <th>op</th>
              <th>weight</th>
              <th>groups</th>
              <th>params</th>
              <th>keep float</th>
              <th>bits</th>
              <th>RTN error</th>
              <th>final error</th>
            </tr>
          </thead>
          <tbody>
            {model.layers.map((layer, index) => {
              const override = overrides[layer.name] ?? {};
              const report = reportByName.get(layer.name);
              return (
                <tr key={layer.name} data-layer={layer.name}>
                  <td>{index}</td>
                  <td className="layer-name" title={layer.name}>
                    {layer.name}
                  </td>
                  <td>{layer.op}</td>
                  <td>{shapeText(layer.weightShape)}</td>
                  <td>{layer.groups}</td>
                  <td>{layer.params.toLocaleString('en')}</td>
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
                      <option value="">default</option>
                      {bitChoices.map((bits) => (
                        <option key={bits} value={bits}>
                          {bits}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>{report && report.bits !== 'float' ? report.rtnRelError.toExponential(2) : ''}</td>
                  <td>
                    {report
                      ? report.bits === 'float'
                        ? 'float'
                        : `${report.relError.toExponential(2)} (W${report.bits})`
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
