/**
 * Turns onnx.proto into the sources of generated/onnxProto.js (static encoders and decoders) and
 * generated/onnxProto.d.ts (their types), with protobufjs-cli's pbjs and pbts. Shared by the
 * generator script and by the test that checks the generated files are current. Node-only.
 *
 * Why static code rather than reflection: protobufjs's reflection runtime compiles each message's
 * encoder and decoder with `new Function`, which a Content-Security-Policy without 'unsafe-eval'
 * forbids. The static module is the same generated code written out as plain source, so it runs
 * on `protobufjs/minimal` alone (no codegen, no eval).
 */
import { pbjs, pbts } from 'protobufjs-cli';

/**
 * pbjs flags. static-module + es6 wrapper: an ES module importing 'protobufjs/minimal.js'.
 * Only encode/decode are used (codec.ts), so verify/convert/delimited/typeurl/service code is left
 * out. A named root keeps these types out of protobufjs's shared "default" roots registry.
 */
export const pbjsArgs = [
  '--target',
  'static-module',
  '--wrap',
  'es6',
  '--root',
  'comqOnnx',
  '--no-create',
  '--no-verify',
  '--no-convert',
  '--no-delimited',
  '--no-typeurl',
  '--no-service',
];

const banner =
  '// GENERATED from src/core/onnx/onnx.proto by src/core/onnx/scripts/generateSchema.ts (protobufjs-cli): do not edit.\n';

function run(
  tool: (args: string[], callback: (err: Error | null, output?: string) => void) => number | undefined,
  args: string[],
  name: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    tool(args, (err, output) => {
      if (err) reject(err);
      else if (output === undefined) reject(new Error(`${name} produced no output for: ${args.join(' ')}`));
      else resolve(output);
    });
  });
}

export interface StaticSchemaSources {
  /** Contents of generated/onnxProto.js. */
  js: string;
  /** Contents of generated/onnxProto.d.ts. */
  dts: string;
}

/** Runs pbjs then pbts (pbts spawns jsdoc: about 2 s). */
export async function renderStaticSchema(protoPath: string): Promise<StaticSchemaSources> {
  const js = await run(pbjs.main, [...pbjsArgs, protoPath], 'pbjs');
  const dts = await new Promise<string>((resolve, reject) => {
    pbts.process(js, ['--no-comments'], (err, output) => {
      if (err) reject(err);
      else if (output === undefined) reject(new Error('pbts produced no output'));
      else resolve(output);
    });
  });
  return { js: banner + js, dts: banner + dts };
}
