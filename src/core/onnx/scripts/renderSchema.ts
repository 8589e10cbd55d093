/**
 * Turns onnx.proto text into the source of generated/onnxSchema.ts (a protobufjs JSON
 * descriptor). Shared by the generator script and by the test that checks the generated file
 * is current. Uses the full protobufjs build, which has the .proto parser; Node-only.
 */
import * as protobufNs from 'protobufjs';

const protobuf = ((protobufNs as unknown as { default?: typeof protobufNs }).default ?? protobufNs);

export function renderSchemaModule(protoText: string): string {
  const parsed = protobuf.parse(protoText, { keepCase: false });
  const json = JSON.stringify(parsed.root.toJSON(), null, 2);
  return [
    '// GENERATED from src/core/onnx/onnx.proto by src/core/onnx/scripts/generateSchema.ts: do not edit.',
    '// protobufjs JSON descriptor of the ONNX schema (field names camelCased).',
    `export const onnxSchemaDescriptor = ${json};`,
    '',
  ].join('\n');
}
