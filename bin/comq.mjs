#!/usr/bin/env node
// Entry point of the `comq` command line. The CLI is TypeScript (src/cli), run through tsx's
// ESM loader so that no build step is needed: `npx comq ...` or `node bin/comq.mjs ...`.
import { register } from 'tsx/esm/api';

register();
try {
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // Only reached if the CLI module itself fails to load; main() handles everything else.
  const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
  process.stderr.write(`comq: internal error: ${detail} (run with COMQ_DEBUG=1 for the stack)\n`);
  if (process.env.COMQ_DEBUG) process.stderr.write(`${error instanceof Error ? error.stack : ''}\n`);
  process.exitCode = 1;
}
