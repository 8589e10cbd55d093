import { useState } from 'react';
import { parseChannelValues, parseResize, parseScale, type StatedPreprocess } from '../../worker/protocol.ts';
import { useStudio } from '../state/store.ts';

/** One sentence per field with its default, like the other settings (SettingsPanel's SETTING_HELP). */
export const PREPROCESS_HELP = {
  mean: "Per-channel mean subtracted after the scale, one value or three ('0.485, 0.456, 0.406'). Default: the preset's.",
  std: "Per-channel std the tensor is divided by, one value or three. Default: the preset's.",
  scale:
    "Multiplies 0–255 pixel values first: '1/255', or 'none' to keep 0–255. Default: the preset's (1/255 for every preset).",
} as const;

/** The choices stated from a list; '' keeps the preset's (or, for the layout, the model's). */
const CHOICES = {
  channelOrder: {
    help: "Channel order of the tensor: RGB or BGR (OpenCV-trained models). Default: the preset's (RGB).",
    options: ['RGB', 'BGR'],
  },
  layout: {
    help: "NCHW or NHWC. Default: read from the model's input shape (where the axis of size 1 or 3 is).",
    options: ['NCHW', 'NHWC'],
  },
  resize: {
    help: "How an image becomes H×W: stretch, crop (shorter side + centre crop 0.875), pad or pad-center (keep aspect, pad with black). Default: the preset's.",
    options: ['stretch', 'crop', 'pad', 'pad-center'],
  },
} as const;

type Key = keyof typeof PREPROCESS_HELP;
type Choice = keyof typeof CHOICES;

function choose(key: Choice, value: string): StatedPreprocess {
  if (key === 'resize') return parseResize(value);
  return { [key]: value } as StatedPreprocess;
}

/** The stated fields a choice sets, to clear them when '' (the preset's) is picked again. */
const CHOICE_FIELDS: Record<Choice, (keyof StatedPreprocess)[]> = {
  channelOrder: ['channelOrder'],
  layout: ['layout'],
  resize: ['resize', 'cropFraction', 'padValue', 'padAlign'],
};

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

  const [chosen, setChosen] = useState<Record<Choice, string>>({ channelOrder: '', layout: '', resize: '' });
  const pick = (key: Choice, value: string) => {
    setChosen({ ...chosen, [key]: value });
    const next: StatedPreprocess = { ...stated };
    for (const field of CHOICE_FIELDS[key]) delete next[field];
    if (value !== '') Object.assign(next, choose(key, value));
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
      {(Object.keys(CHOICES) as Choice[]).map((key) => (
        <label className="field" title={CHOICES[key].help} key={key}>
          <span className="field-label">{key === 'channelOrder' ? 'channel order' : key}</span>
          <select
            data-testid={`setting-${key}`}
            value={chosen[key]}
            onChange={(event) => pick(key, event.target.value)}
          >
            <option value="">{key === 'layout' ? "model's" : "preset's"}</option>
            {CHOICES[key].options.map((option) => (
              <option key={option} value={option}>
                {option}
              </option>
            ))}
          </select>
          <small className="help">{CHOICES[key].help}</small>
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
