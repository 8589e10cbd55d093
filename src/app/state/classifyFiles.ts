/**
 * Sorts what the user dropped or picked into a model (the .onnx plus any external-data files) and
 * inputs (images, .npy tensors or .npz samples). Works on names only; the worker decides whether bytes are valid.
 */
export const imageExtensions = ['jpg', 'jpeg', 'png', 'webp', 'bmp'] as const;
export const tensorExtensions = ['npy', 'npz'] as const;

export interface NamedFile {
  name: string;
}

export interface ClassifiedFiles<F extends NamedFile> {
  /** The .onnx file(s) and their companions (external data), in the order given. */
  model: F[];
  inputs: F[];
  /** Files that are neither, with why. */
  rejected: { file: F; reason: string }[];
}

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
}

export function isInputFile(name: string): boolean {
  const ext = extensionOf(name);
  return (
    (imageExtensions as readonly string[]).includes(ext) ||
    (tensorExtensions as readonly string[]).includes(ext)
  );
}

/**
 * `target` says where the files came from: the model picker sends everything to the model (the
 * worker names what is wrong with a non-ONNX file), the inputs picker everything to the inputs, the
 * drop zone sorts by extension. In a drop, a file that is neither an image nor a tensor is the
 * model's external data when an .onnx came with it, and is refused otherwise.
 */
export function classifyFiles<F extends NamedFile>(
  files: readonly F[],
  target: 'model' | 'inputs' | 'drop',
): ClassifiedFiles<F> {
  if (target === 'model') return { model: [...files], inputs: [], rejected: [] };
  if (target === 'inputs') return { model: [], inputs: [...files], rejected: [] };
  const hasOnnx = files.some((file) => extensionOf(file.name) === 'onnx');
  const result: ClassifiedFiles<F> = { model: [], inputs: [], rejected: [] };
  for (const file of files) {
    if (extensionOf(file.name) === 'onnx') result.model.push(file);
    else if (isInputFile(file.name)) result.inputs.push(file);
    else if (hasOnnx) result.model.push(file);
    else {
      result.rejected.push({
        file,
        reason: `${file.name} is neither an ONNX model (.onnx) nor an image (${imageExtensions.join(', ')}) nor a tensor (.npy, .npz); drop it together with its .onnx if it is the model's external data`,
      });
    }
  }
  return result;
}

/** Human-readable byte size (KiB/MiB with one decimal), for the model facts and the downloads. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
