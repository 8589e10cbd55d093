import { useState, type ChangeEvent, type DragEvent } from 'react';
import { acceptFiles, clearInputs, loadDemo } from '../controller.ts';
import { imageExtensions } from '../state/classifyFiles.ts';
import { useStudio } from '../state/store.ts';
import { filesFromDrop } from '../dropFiles.ts';
import { ModelInputsFields } from './ModelInputsFields.tsx';

const inputAccept = [...imageExtensions.map((ext) => `.${ext}`), '.npy', '.npz'].join(',');

function picked(event: ChangeEvent<HTMLInputElement>): File[] {
  const files = Array.from(event.target.files ?? []);
  // Clearing lets the same file be picked again after an error.
  event.target.value = '';
  return files;
}

/** The drop zone, the three pickers (model, image files, image folder) and the demo button. */
export function InputsPanel() {
  const busy = useStudio((state) => state.busy);
  const running = useStudio((state) => state.progress.status === 'running');
  const [dragging, setDragging] = useState(false);
  const disabled = busy !== null || running;

  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setDragging(false);
    if (!disabled) void filesFromDrop(event.dataTransfer).then((files) => acceptFiles(files, 'drop'));
  };

  return (
    <section className="panel" data-testid="inputs" aria-labelledby="inputs-heading">
      <h2 id="inputs-heading">1. Model and images</h2>
      <div className="demo-row">
        <button
          type="button"
          className="primary"
          data-testid="load-demo"
          disabled={disabled}
          onClick={() => void loadDemo()}
        >
          Load the demo
        </button>
        <span className="hint">
          the PP-OCR text detector with real photos and text images, all served by this page
        </span>
      </div>
      <div
        className={`drop-zone${dragging ? ' dragging' : ''}`}
        data-testid="drop-zone"
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>
          Drop an .onnx model (with its external-data file, if any) and images (jpg, png, webp, bmp), .npy
          tensors or .npz samples here, or a folder of them (for several inputs: one sub-folder per input
          name).
        </p>
        <p className="hint">Files are read in this page and its worker; nothing is uploaded.</p>
        <div className="pickers">
          <label className="picker">
            Model…
            <input
              type="file"
              data-testid="model-input"
              multiple
              disabled={disabled}
              onChange={(event) => void acceptFiles(picked(event), 'model')}
            />
          </label>
          <label className="picker">
            Images or tensors…
            <input
              type="file"
              data-testid="images-input"
              multiple
              accept={inputAccept}
              disabled={disabled}
              onChange={(event) => void acceptFiles(picked(event), 'inputs')}
            />
          </label>
          <label className="picker">
            Image folder…
            <input
              type="file"
              data-testid="folder-input"
              multiple
              disabled={disabled}
              // webkitdirectory is not in React's typings; set it on the element itself.
              ref={(element) => element?.setAttribute('webkitdirectory', '')}
              onChange={(event) =>
                void acceptFiles(
                  picked(event).filter((file) => /\.(jpe?g|png|webp|bmp|npy|npz)$/i.test(file.name)),
                  'inputs',
                )
              }
            />
          </label>
          <button type="button" disabled={disabled} onClick={() => void clearInputs()}>
            Clear images
          </button>
        </div>
      </div>
      <ModelInputsFields />
      {busy && (
        <p className="busy" data-testid="busy" role="status">
          {busy}
        </p>
      )}
    </section>
  );
}
