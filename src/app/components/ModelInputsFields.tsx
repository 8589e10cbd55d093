import { useEffect, useState } from 'react';
import type { ModelSummary } from '../../worker/protocol.ts';
import { useStudio } from '../state/store.ts';

/**
 * The model's inputs (issue 17): name, type and shape, and for each input the dropped files do not
 * give a constant (a sample rate such as 16000, or zeros for a state). Nothing is filled in by
 * itself: a run with an input fed by neither is refused, naming the input. Shown for models with
 * several inputs; also lists the layers inside If branches, which the constants decide.
 */
export function ModelInputsFields() {
  const model = useStudio((state) => state.model);
  const constants = useStudio((state) => state.settings.constants);
  const settingsChanged = useStudio((state) => state.settingsChanged);
  const running = useStudio((state) => state.progress.status === 'running');

  // A constant for an input the newly loaded model does not have would be refused: drop it.
  useEffect(() => {
    if (!model || !constants) return;
    const names = new Set(model.inputs.map((input) => input.name));
    const kept = Object.fromEntries(Object.entries(constants).filter(([name]) => names.has(name)));
    if (Object.keys(kept).length !== Object.keys(constants).length) settingsChanged({ constants: kept });
  }, [model, constants, settingsChanged]);

  if (!model || (model.inputs.length < 2 && !model.branchLayers?.length)) return null;
  const setConstant = (name: string, value: number | undefined) => {
    const next = { ...(constants ?? {}) };
    if (value === undefined) delete next[name];
    else next[name] = value;
    settingsChanged({ constants: next });
  };
  return (
    <div className="model-inputs" data-testid="model-inputs">
      <h3>Model inputs</h3>
      <p className="hint">
        Each input comes from the dropped files (.npz samples with one array per input name, or a folder with
        one sub-folder of .npy per input) or from a constant set here, the same in every sample.
      </p>
      <table>
        <thead>
          <tr>
            <th>input</th>
            <th>type</th>
            <th>shape</th>
            <th>constant</th>
          </tr>
        </thead>
        <tbody>
          {model.inputs.map((input) => (
            <InputRow
              key={`${model.fileName}/${input.name}`}
              input={input}
              value={constants?.[input.name]}
              disabled={running}
              onChange={(value) => setConstant(input.name, value)}
            />
          ))}
        </tbody>
      </table>
      <BranchLayers model={model} />
    </div>
  );
}

function InputRow({
  input,
  value,
  disabled,
  onChange,
}: {
  input: ModelSummary['inputs'][number];
  value: number | undefined;
  disabled: boolean;
  onChange: (value: number | undefined) => void;
}) {
  // What the user is typing ('0.' on the way to '0.5'); the constant itself lives in the settings.
  const [draft, setDraft] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const text = draft ?? (value === undefined ? '' : String(value));
  const scalar = input.shape.every((dim) => dim === 1) || input.shape.length === 0;
  const integer = /int/.test(input.elemType);
  const commit = (raw: string) => {
    setDraft(raw);
    const trimmed = raw.trim();
    if (trimmed === '') {
      setProblem(null);
      onChange(undefined);
      return;
    }
    const number = Number(trimmed);
    if (!Number.isFinite(number) || (integer && !Number.isInteger(number))) {
      setProblem(`${input.name} is ${input.elemType}: give ${integer ? 'a whole number' : 'a number'}`);
      return;
    }
    setProblem(null);
    onChange(number);
  };
  return (
    <tr data-testid={`model-input-${input.name}`}>
      <td>{input.name}</td>
      <td>{input.elemType}</td>
      <td>{input.shape.length === 0 ? 'scalar' : `[${input.shape.join(', ')}]`}</td>
      <td>
        <input
          type="text"
          inputMode="decimal"
          size={8}
          aria-label={`constant for ${input.name}`}
          data-testid={`input-constant-${input.name}`}
          placeholder="from files"
          value={text}
          disabled={disabled}
          onChange={(event) => commit(event.target.value)}
          onBlur={() => {
            if (!problem) setDraft(null);
          }}
        />
        {!scalar && (
          <button type="button" disabled={disabled} onClick={() => commit('0')} title="every element 0">
            zeros
          </button>
        )}
        {value !== undefined && (
          <button type="button" disabled={disabled} onClick={() => commit('')} title="feed it from the files">
            clear
          </button>
        )}
        {problem && (
          <span className="entry-error" role="alert">
            {problem}
          </span>
        )}
      </td>
    </tr>
  );
}

function BranchLayers({ model }: { model: ModelSummary }) {
  const layers = model.branchLayers ?? [];
  if (layers.length === 0) return null;
  return (
    <details className="branch-layers" data-testid="branch-layers">
      <summary>{model.branchNote}</summary>
      <ul>
        {layers.map((layer) => (
          <li key={layer.name}>
            {layer.op} {layer.name}
          </li>
        ))}
      </ul>
    </details>
  );
}
