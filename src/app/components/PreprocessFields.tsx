import { useState } from 'react';
import { parseChannelValues, parseScale, type StatedPreprocess } from '../../worker/protocol.ts';
import { useStudio } from '../state/store.ts';

/** One sentence per field with its default, like the other settings (SettingsPanel's SETTING_HELP). */
export const PREPROCESS_HELP = {
  mean: "Per-channel mean subtracted after the scale, one value or three ('0.485, 0.456, 0.406'). Default: the preset's.",
  std: "Per-channel std the tensor is divided by, one value or three. Default: the preset's.",
  scale:
    "Multiplies 0–255 pixel values first: '1/255', or 'none' to keep 0–255. Default: the preset's (1/255 for every preset).",
} as const;

type Key = keyof typeof PREPROCESS_HELP;

function parse(key: Key, text: string): StatedPreprocess[Key] {
  if (key === 'scale') return parseScale(text);
  return parseChannelValues(text, key);
}

/**
 * Normalisation the user states over the preset (issue 15). While the studio's choice is a guess
 * (no preset fits the model, no metadata) a badge says so until mean/std or scale are stated.
 */
export function PreprocessFields() {
  const settings = useStudio((state) => state.settings);
  const change = useStudio((state) => state.settingsChanged);
  const model = useStudio((state) => state.model);
  const stated = settings.preprocess.stated ?? {};
  const [texts, setTexts] = useState<Record<Key, string>>({ mean: '', std: '', scale: '' });
  const [problem, setProblem] = useState<string | null>(null);

  const commit = (key: Key, text: string) => {
    const next: StatedPreprocess = { ...stated };
    try {
      if (text.trim() === '') delete next[key];
      else (next as Record<Key, unknown>)[key] = parse(key, text);
      setProblem(null);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
      return;
    }
    change({ preprocess: { ...settings.preprocess, stated: next } });
  };

  const guessed =
    model?.preset.guessed === true &&
    settings.preprocess.preset === model.preset.name &&
    !(['mean', 'std', 'scale'] as const).some((key) => key in stated);

  return (
    <>
      {guessed && (
        <p className="badge warn" data-testid="preprocess-guess" role="status">
          Preprocessing is a guess: no preset fits this model and it carries no normalisation. Check the
          preview&apos;s range below, then state the mean/std the model was trained with.
        </p>
      )}
      {model?.preset.metadata && (
        <p className="help" data-testid="preprocess-metadata">
          Values from {model.preset.metadata}.
        </p>
      )}
      {(Object.keys(PREPROCESS_HELP) as Key[]).map((key) => (
        <label className="field" title={PREPROCESS_HELP[key]} key={key}>
          <span className="field-label">{key}</span>
          <input
            type="text"
            data-testid={`setting-${key}`}
            placeholder="preset's"
            value={texts[key]}
            onChange={(event) => setTexts({ ...texts, [key]: event.target.value })}
            onBlur={(event) => commit(key, event.target.value)}
          />
          <small className="help">{PREPROCESS_HELP[key]}</small>
        </label>
      ))}
      {problem && (
        <p className="entry-error" data-testid="preprocess-problem">
          {problem}
        </p>
      )}
    </>
  );
}
