/**
 * The static codec (generated/onnxProto.js) against the protobufjs reflection codec it replaced:
 * same bytes out, same decoded messages, on the real PP-OCR models; and no eval anywhere in the
 * code it runs, which is why it replaced reflection (CSP without 'unsafe-eval', vite.config.ts).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Long from 'long';
import * as protobufNs from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { ModelProtoType } from './schema.ts';
import { ppocrModelNames, readPpocrModel } from '../../testing/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
const protobuf = (protobufNs as unknown as { default?: typeof protobufNs }).default ?? protobufNs;

/** The reference: reflection types parsed from onnx.proto at test time (compiles codecs with `new Function`, fine in Node). */
const reflectionModelType = protobuf
  .parse(readFileSync(join(here, 'onnx.proto'), 'utf8'), { keepCase: false })
  .root.lookupType('onnx.ModelProto');

type Message = Record<string, unknown>;
const hasOwn = (m: object, key: string) => Object.prototype.hasOwnProperty.call(m, key);

function sameScalar(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array)
    return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
  if (Long.isLong(a) && Long.isLong(b)) return a.equals(b) && a.unsigned === b.unsigned;
  return Object.is(a, b);
}

/**
 * Walks two decodings of the same bytes field by field (reflection type as the guide) and lists
 * every difference: presence (own property or not), values, and the defaults read through the
 * prototype for absent fields.
 */
function diffMessages(type: protobufNs.Type, ref: Message, stat: Message, path: string, out: string[]): void {
  if (Object.keys(ref).sort().join() !== Object.keys(stat).sort().join()) {
    out.push(`${path}: own keys ${Object.keys(ref).sort().join()} vs ${Object.keys(stat).sort().join()}`);
    return;
  }
  for (const field of type.fieldsArray) {
    const name = field.name;
    const at = `${path}.${name}`;
    const [a, b] = [ref[name], stat[name]];
    if (!hasOwn(ref, name)) {
      // Absent fields read their default through the prototype. Two defaults differ by design:
      // - oneof members: reflection holds the type default (0, ''), the static code null. Both
      //   mean "not set": readers test presence (modelFacts.ts) or read null as 0 (int64.ts);
      // - bytes: reflection holds a frozen empty Array, the static code an empty Uint8Array
      //   (what types.ts promises; TextDecoder.decode accepts it, not the Array).
      if (hasOwn(stat, name)) out.push(`${at}: absent vs present`);
      else if (field.partOf) {
        if (b !== null) out.push(`${at}: absent oneof member reads ${String(b)}, not null`);
      } else if (field.type === 'bytes') {
        if (!(b instanceof Uint8Array && b.length === 0 && (a as unknown[]).length === 0))
          out.push(`${at}: absent bytes default ${String(a)} vs ${String(b)}`);
      } else if (
        !sameScalar(a, b) &&
        !(Array.isArray(a) && Array.isArray(b) && a.length === 0 && b.length === 0)
      ) {
        out.push(`${at}: absent, default ${String(a)} vs ${String(b)}`);
      }
      continue;
    }
    const elementsA = field.repeated ? (a as unknown[]) : [a];
    const elementsB = field.repeated ? (b as unknown[]) : [b];
    if (elementsA.length !== elementsB.length) {
      out.push(`${at}: ${elementsA.length} vs ${elementsB.length} elements`);
      continue;
    }
    elementsA.forEach((x, i) => {
      const y = elementsB[i];
      if (field.resolvedType instanceof protobuf.Type)
        diffMessages(field.resolvedType, x as Message, y as Message, `${at}[${i}]`, out);
      else if (!sameScalar(x, y)) out.push(`${at}[${i}]: ${String(x)} vs ${String(y)}`);
    });
  }
}

describe.each(ppocrModelNames)(
  'static codec vs protobufjs reflection on the real PP-OCR %s model',
  (name) => {
    it('decodes to the same messages and encodes them to the same bytes', () => {
      const bytes = readPpocrModel(name);
      const viaReflection = reflectionModelType.decode(bytes) as unknown as Message;
      const viaStatic = ModelProtoType.decode(bytes) as unknown as Message;
      const differences: string[] = [];
      diffMessages(reflectionModelType, viaReflection, viaStatic, 'model', differences);
      expect(differences.slice(0, 10)).toEqual([]);
      const fromReflection = reflectionModelType.encode(viaReflection).finish();
      const fromStatic = ModelProtoType.encode(viaStatic).finish();
      expect(fromStatic.length).toBe(bytes.length);
      expect(Buffer.compare(Buffer.from(fromStatic), Buffer.from(fromReflection))).toBe(0);
      // The reflection encoder fed the static decoding (and vice versa) agrees too: the messages are interchangeable.
      expect(
        Buffer.compare(Buffer.from(reflectionModelType.encode(viaStatic).finish()), Buffer.from(fromStatic)),
      ).toBe(0);
    });
  },
);

describe('no eval in the static codec', () => {
  const evalPattern = /\bFunction\s*\(|\beval\s*\(/;

  it('the generated module imports only protobufjs/minimal and contains no Function( or eval(', () => {
    const source = readFileSync(join(here, 'generated', 'onnxProto.js'), 'utf8');
    const imports = [...source.matchAll(/^\s*import\b[^;]*?from\s+["']([^"']+)["']/gm)].map((m) => m[1]);
    expect(imports).toEqual(['protobufjs/minimal.js']);
    expect(source).not.toMatch(/\brequire\s*\(/);
    expect(source.split('\n').filter((line) => evalPattern.test(line))).toEqual([]);
  });

  it('nor does any file protobufjs/minimal loads (its require graph, followed statically)', () => {
    const require = createRequire(import.meta.url);
    const seen = new Set<string>();
    const pending = [require.resolve('protobufjs/minimal.js')];
    const offending: string[] = [];
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      // Comments stripped: roots.js shows `require("./compiled.js")` in its documentation.
      const source = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      source.split('\n').forEach((line, i) => {
        if (evalPattern.test(line)) offending.push(`${file}:${i + 1}: ${line.trim()}`);
      });
      const fileRequire = createRequire(file);
      for (const m of source.matchAll(/\brequire\s*\(\s*["']([^"']+)["']\s*\)/g))
        pending.push(fileRequire.resolve(m[1]));
    }
    // The graph reaches the reader, writer, util and long: a walk that stopped early proves nothing.
    expect([...seen].some((f) => f.endsWith('/src/reader.js'))).toBe(true);
    expect([...seen].some((f) => f.endsWith('/src/writer.js'))).toBe(true);
    expect([...seen].some((f) => /\/long\//.test(f))).toBe(true);
    expect(offending).toEqual([]);
  });
});
