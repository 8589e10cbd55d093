import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { describeFailure, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, oneLine } from './errors.ts';
import { runInspect, type InspectOptions } from './inspect.ts';
import { registerQuantize } from './quantizeCommand.ts';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** COMQ_DEBUG=1 prints the stack of internal errors. */
  debug: boolean;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  debug: Boolean(process.env.COMQ_DEBUG && process.env.COMQ_DEBUG !== '0'),
};

/** Commander's own messages start with "error: "; ours add the program name once. */
function commanderMessage(error: CommanderError): string {
  const text = oneLine(error.message.replace(/^error:\s*/i, ''));
  switch (error.code) {
    case 'commander.missingArgument':
      return `${text}; usage: comq inspect MODEL.onnx [--json] [--data FILE ...], or comq quantize MODEL.onnx --images DIR --out OUT.onnx`;
    case 'commander.unknownCommand':
    case 'commander.unknownOption':
    case 'commander.excessArguments':
      return `${text}; run \`comq --help\` for the commands and options.`;
    default:
      return text;
  }
}

/** The installed package's version, read at run time so that it cannot drift from package.json. */
function packageVersion(): string {
  const manifest: unknown = createRequire(import.meta.url)('../../package.json');
  const version = (manifest as { version?: unknown }).version;
  return typeof version === 'string' ? version : 'unknown';
}

function buildProgram(io: CliIo): Command {
  const program = new Command('comq')
    .description(
      'Quantize ONNX models with COMQ, GPTQ, RTN, AdaRound or BRECQ (weights only), on your own machine.',
    )
    .exitOverride()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      // Errors are reported once, in main's own one-line format.
      outputError: () => undefined,
    })
    .showSuggestionAfterError(true)
    .version(packageVersion(), '-V, --version', 'print the comq version and exit');

  program
    .command('inspect')
    .description(
      'Print the model facts, the quantizable layers (rows × reduction per layer) and the layers left in float.',
    )
    .argument('<model>', 'the .onnx model file')
    .option('--json', 'print {"model", "layers", "skipped"} as JSON instead of text')
    .option(
      '--data <files...>',
      'external-data files the model refers to (tensors stored outside the .onnx file)',
    )
    .action((modelPath: string, options: InspectOptions) => {
      runInspect(modelPath, options, io.stdout);
    });
  registerQuantize(program, io);
  return program;
}

/** Runs the CLI on `argv` (without node and script) and returns the exit code; never throws. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  if (io === processIo) {
    // `comq inspect m.onnx | head` closes the pipe early: that is the reader's choice, not an error.
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(EXIT_OK);
    });
  }
  const program = buildProgram(io);
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT_USAGE;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version also arrive here, with exit code 0.
      if (error.exitCode === 0) return EXIT_OK;
      io.stderr(`comq: error: ${commanderMessage(error)}\n`);
      return EXIT_USAGE;
    }
    // Any input problem (InputError and its subclasses, marker `inputProblem`) is the user's to fix
    // (exit 2); onnxruntime's text is reduced to its one line (describeFailure).
    const failure = describeFailure(error);
    io.stderr(`${failure.line}\n`);
    if (failure.exitCode === EXIT_USAGE) return EXIT_USAGE;
    if (io.debug && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
    return EXIT_INTERNAL;
  }
}
