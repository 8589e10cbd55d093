import { useEffect } from 'react';
import type { SamplePreview } from '../../worker/protocol.ts';
import { refreshPreview } from '../controller.ts';
import { useStudio } from '../state/store.ts';
import { RgbaCanvas } from './RgbaCanvas.tsx';

function PreviewOutput({ output }: { output: SamplePreview['output'] }) {
  switch (output.kind) {
    case 'top5':
      return (
        <ol className="top5" data-testid="preview-top5">
          {output.classes.map((entry) => (
            <li key={entry.index}>
              {entry.label ?? `class ${entry.index}`}: {(entry.probability * 100).toFixed(1)} %
            </li>
          ))}
        </ol>
      );
    case 'map':
      return (
        <RgbaCanvas
          width={output.width}
          height={output.height}
          rgba={output.rgba}
          label="float model output map"
          testId="preview-output-map"
        />
      );
    case 'summary':
      return <p data-testid="preview-summary">{output.text}</p>;
  }
}

/** The loaded images and, for the selected one, the tensor as the model sees it and its float output. */
export function Gallery() {
  const images = useStudio((state) => state.images);
  const selectedImage = useStudio((state) => state.selectedImage);
  const preview = useStudio((state) => state.preview);
  const preset = useStudio((state) => state.settings.preprocess.preset);
  const size = useStudio((state) => state.settings.preprocess.size);
  const modelName = useStudio((state) => state.model?.fileName);
  const imageSelected = useStudio((state) => state.imageSelected);
  const sizeKey = size ? size.join('x') : '';
  const stated = useStudio((state) => state.settings.preprocess.stated);
  const statedKey = JSON.stringify(stated ?? {});

  // The preview follows the selection, the preprocessing and the model.
  useEffect(() => {
    void refreshPreview();
  }, [selectedImage, preset, sizeKey, statedKey, modelName]);

  const okCount = images.filter((image) => image.ok).length;
  return (
    <section className="panel" data-testid="gallery" aria-labelledby="gallery-heading">
      <h2 id="gallery-heading">Images</h2>
      {images.length === 0 ? (
        <p className="hint">No images yet.</p>
      ) : (
        <p data-testid="image-count">
          {okCount} usable of {images.length}
        </p>
      )}
      <ul className="image-list" data-testid="image-list">
        {images.map((image) => (
          <li key={image.name} data-ok={String(image.ok)} data-name={image.name}>
            <button
              type="button"
              className={image.name === selectedImage ? 'selected' : ''}
              disabled={!image.ok}
              onClick={() => imageSelected(image.name)}
            >
              {image.name}
              {image.ok && image.width ? ` (${image.width}×${image.height})` : ''}
            </button>
            {!image.ok && <span className="entry-error">{image.error}</span>}
          </li>
        ))}
      </ul>
      {preview && (
        <div className="preview" data-testid="preview">
          <RgbaCanvas
            width={preview.input.width}
            height={preview.input.height}
            rgba={preview.input.rgba}
            label={`${preview.name} as the model sees it (${preview.input.width}×${preview.input.height})`}
            testId="preview-input"
          />
          <PreviewOutput output={preview.output} />
          <p className="help tensor-summary" data-testid="preview-tensor">
            Input tensor {preview.tensorSummary}
            {preview.spec ? ` — ${preview.spec}` : ''}
          </p>
        </div>
      )}
    </section>
  );
}
