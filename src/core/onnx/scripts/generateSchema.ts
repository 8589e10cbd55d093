/**
 * Regenerates src/core/onnx/generated/onnxSchema.ts from src/core/onnx/onnx.proto.
 *
 * Why a generated descriptor: the core must load the schema in a browser worker, where there is
 * no fs, and under Vite, Vitest and tsx alike. A TS module holding the protobufjs JSON descriptor
 * imports the same way everywhere and needs only `protobufjs/light` (no .proto parser) at runtime.
 *
 * Run: npx tsx src/core/onnx/scripts/generateSchema.ts
 * The test schema.test.ts fails when the generated file is out of date with onnx.proto.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderSchemaModule } from './renderSchema.ts';

const here = dirname(fileURLToPath(import.meta.url));
const protoPath = join(here, '..', 'onnx.proto');
const outPath = join(here, '..', 'generated', 'onnxSchema.ts');

writeFileSync(outPath, renderSchemaModule(readFileSync(protoPath, 'utf8')));
console.log(`wrote ${outPath}`);
