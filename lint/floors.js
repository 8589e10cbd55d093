/**
 * ESLint rule `floors/arrows`: the import arrows of docs/design.md ("Floors"), checked on every
 * import, re-export and literal dynamic import. Each arrow names the folder it applies to (by path
 * prefix from the repository root), the folders or modules it may not import, and why. A custom
 * rule rather than `no-restricted-imports`, because flat config keeps only one option set per rule
 * and file, so overlapping arrows (core ↛ hosts, and backend ↛ quant for a backend file) would
 * silently replace each other. src/lint/floors.test.ts proves each arrow bites.
 */
import { dirname, relative, resolve } from 'node:path';

/** Repository root: this file lives in <root>/lint/. */
const root = resolve(dirname(new URL(import.meta.url).pathname), '..');

const coreFloors = [
  'base',
  'onnx',
  'graph',
  'quant',
  'backend',
  'calibration',
  'evaluation',
  'export',
  'pipeline',
  'run',
].map((f) => `src/core/${f}/`);
const isTest = (file) => /\.test\.tsx?$/.test(file);

/**
 * from: path prefix of the importing file; deny: path prefixes of forbidden targets (resolved
 * relative imports); denyModules: forbidden bare module names; allow: exact files or prefixes
 * exempt from deny; sources: the arrow skips test files; typeOnlyAllowed: `import type` passes.
 */
export const arrows = [
  {
    from: 'src/core/',
    deny: ['src/hosts/', 'src/cli/', 'src/worker/', 'src/app/'],
    why: 'src/core must not import the shells or a host folder: take what you need through the ports in src/core/base',
  },
  {
    from: 'src/core/',
    sources: true,
    except: ['src/core/onnx/scripts/'],
    deny: ['src/testing/'],
    denyModules: [
      /^node:/,
      /^onnxruntime-/,
      /^webgpu$/,
      /^sharp$/,
      /^vitest/,
      /^(fs|path|os|child_process|url|worker_threads)$/,
    ],
    why: 'src/core must not import test kits, Node built-ins, onnxruntime or GPU bindings: add a port in src/core/base and fill it in src/hosts',
  },
  {
    from: 'src/core/',
    denyModules: [/^react(-dom)?(\/|$)/, /^zustand(\/|$)/],
    why: 'src/core must stay free of UI libraries',
  },
  {
    from: 'src/core/backend/',
    deny: ['src/core/quant/'],
    why: 'src/core/backend must not import src/core/quant: kernels know no method; shared math lives in src/core/base',
  },
  {
    from: 'src/core/quant/',
    deny: ['src/core/calibration/', 'src/core/pipeline/', 'src/core/run/'],
    why: 'src/core/quant must not import calibration, pipeline or run: a method sees a layer problem and kernels',
  },
  {
    from: 'src/core/onnx/',
    deny: coreFloors.filter((f) => f !== 'src/core/onnx/' && f !== 'src/core/base/'),
    why: 'src/core/onnx is the codec: it must not import the floors above it',
  },
  {
    from: 'src/core/base/',
    deny: coreFloors.filter((f) => f !== 'src/core/base/'),
    why: 'src/core/base is the ground floor: it imports nothing else from the core',
  },
  {
    from: 'src/app/',
    deny: ['src/core/', 'src/hosts/', 'src/cli/', 'src/worker/'],
    allow: ['src/worker/client.ts', 'src/worker/protocol.ts'],
    typeOnlyAllowed: true,
    why: 'src/app talks only to src/worker/client.ts and src/worker/protocol.ts (type-only imports of the core are fine)',
  },
];

function isTypeOnly(node) {
  if (node.importKind === 'type' || node.exportKind === 'type') return true;
  const specifiers = node.specifiers ?? [];
  return specifiers.length > 0 && specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type');
}

function check(context, node, source) {
  if (!source || typeof source.value !== 'string') return;
  const file = relative(root, context.filename).split('\\').join('/');
  const spec = source.value;
  const target = spec.startsWith('.')
    ? relative(root, resolve(dirname(context.filename), spec))
        .split('\\')
        .join('/')
    : undefined;
  for (const a of arrows) {
    if (!file.startsWith(a.from)) continue;
    if (a.sources && isTest(file)) continue;
    if (a.except?.some((p) => file.startsWith(p))) continue;
    if (a.typeOnlyAllowed && isTypeOnly(node)) continue;
    const deniedPath =
      target !== undefined &&
      (a.deny ?? []).some((p) => target.startsWith(p)) &&
      !(a.allow ?? []).some((p) => target === p || target.startsWith(p.endsWith('/') ? p : `${p}/`));
    const deniedModule = target === undefined && (a.denyModules ?? []).some((re) => re.test(spec));
    if (deniedPath || deniedModule) {
      context.report({ node: source, message: `'${spec}' crosses a floor: ${a.why}.` });
      return;
    }
  }
}

export const floorsPlugin = {
  rules: {
    arrows: {
      meta: {
        type: 'problem',
        docs: { description: 'import arrows between the floors of src/' },
        schema: [],
      },
      create(context) {
        return {
          ImportDeclaration: (node) => check(context, node, node.source),
          ExportNamedDeclaration: (node) => check(context, node, node.source),
          ExportAllDeclaration: (node) => check(context, node, node.source),
          ImportExpression: (node) => check(context, node, node.source),
        };
      },
    },
  },
};
