/**
 * Regenerates src/core/onnx/generated/onnxProto.{js,d.ts} from src/core/onnx/onnx.proto.
 *
 * Why generated static code: the core must encode and decode ONNX in a browser worker under a
 * Content-Security-Policy without 'unsafe-eval' (protobufjs reflection compiles its codecs with
 * `new Function`), as well as under Node, Vitest and tsx. The static module needs only
 * `protobufjs/minimal` at runtime: no .proto parser, no fs, no eval.
 *
 * Run: npx tsx src/core/onnx/scripts/generateSchema.ts
 * The test schema.test.ts fails when the generated files are out of date with onnx.proto.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderStaticSchema } from './renderStatic.ts';

const here = dirname(fileURLToPath(import.meta.url));
const protoPath = join(here, '..', 'onnx.proto');
const outDir = join(here, '..', 'generated');

const { js, dts } = await renderStaticSchema(protoPath);
writeFileSync(join(outDir, 'onnxProto.js'), js);
writeFileSync(join(outDir, 'onnxProto.d.ts'), dts);
console.log(`wrote ${join(outDir, 'onnxProto.js')} and onnxProto.d.ts`);
