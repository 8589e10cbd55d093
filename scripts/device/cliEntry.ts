/** Entry of the bundled `comq` (scripts/device/bundle.ts): bin/comq.mjs without tsx. */
import { main } from '../../src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
