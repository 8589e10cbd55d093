/**
 * Files from a drop, folders included: DataTransfer.files lists a dropped folder as one empty
 * entry, so folders are walked through the (WebKit-prefixed but universally supported) entries API.
 */

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** readEntries returns at most ~100 entries per call: call until it returns none. */
async function childrenOf(directory: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = directory.createReader();
  const children: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0) return children;
    children.push(...batch);
  }
}

/** Paths of files that came from a dropped folder ('data/state/a0.npy'): File.name has no folder. */
const dropPaths = new WeakMap<File, string>();

/**
 * The file's path inside the dropped or picked folder, else its name: .npy files for a model with
 * several inputs pair by the sub-folder they sit in (one per input name).
 */
export function relativePathOf(file: File): string {
  return dropPaths.get(file) ?? (file.webkitRelativePath || file.name);
}

async function walk(entry: FileSystemEntry, into: File[]): Promise<void> {
  if (entry.isFile) {
    const file = await fileOf(entry as FileSystemFileEntry);
    // fullPath is '/data/state/a0.npy' for a file of a dropped folder, '/a0.npy' for a dropped file.
    dropPaths.set(file, entry.fullPath.replace(/^\//, '') || file.name);
    into.push(file);
  } else if (entry.isDirectory)
    for (const child of await childrenOf(entry as FileSystemDirectoryEntry)) await walk(child, into);
}

export async function filesFromDrop(transfer: DataTransfer): Promise<File[]> {
  const entries = Array.from(transfer.items)
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry?.() ?? null);
  if (entries.length === 0 || entries.some((entry) => entry === null)) return Array.from(transfer.files);
  const files: File[] = [];
  for (const entry of entries) await walk(entry!, files);
  return files;
}
