/**
 * `--inputs DIR` as a folder of .npz samples (issue 17 item 4): one file per sample, each holding
 * one array per model input named by the input (numpy.savez(path, input=..., state=...)). The
 * reading and checking is the core's (src/core/calibration/inputs/npz.ts); here only the listing.
 */
import { npzSampleSet } from '../core/calibration/inputs/index.ts';
import type { SampleSource } from '../core/run/index.ts';
import { listFiles } from '../hosts/node/fileSets.ts';
import { readSampleFile, SAMPLE_MAX_BYTES } from '../hosts/node/regularFile.ts';
import { CliUsageError } from './errors.ts';

/** The folder's .npz files as a sample source, or undefined when it holds none at its top level. */
export async function npzFolderSource(dir: string, flag: string): Promise<SampleSource | undefined> {
  const files = await listFiles(dir, ['.npz'], false).catch(() => []);
  if (files.length === 0) return undefined;
  const npy = await listFiles(dir, ['.npy'], false).catch(() => []);
  if (npy.length > 0)
    throw new CliUsageError(
      `${flag} ${dir}: holds both .npz samples (${files[0]}) and .npy files (${npy[0]}); keep one kind per folder.`,
    );
  return {
    kind: 'npy',
    origin: dir,
    names: files,
    open: async (names, how) =>
      npzSampleSet(
        names.map((name) => ({
          name,
          load: async () => readSampleFile(dir, name, { maxBytes: SAMPLE_MAX_BYTES, what: 'an .npz file' }),
        })),
        how.inputs,
      ),
  };
}
