/**
 * What the model check reports: one problem per finding, each a sentence that says what is wrong,
 * where (node, op, tensor), and what to do. Names taken from the model are passed through
 * safeText so that a crafted name cannot break the one-line message or drive the terminal.
 */
import { InputError } from '../../base/inputError.ts';
import { safeText } from '../../base/safeText.ts';

export const MODEL_PROBLEM_KINDS = [
  /** The ModelProto has no graph. */
  'no-graph',
  /** Nodes feed each other in a loop: no evaluation order exists. */
  'cycle',
  /** A node reads a value that no graph input, initializer or node defines. */
  'undefined-input',
  /** A graph output that nothing defines. */
  'undefined-output',
  /** A value defined twice: two nodes write it, or a node overwrites a graph input / initializer. */
  'duplicate-output',
  /** Two initializers (or sparse initializers) share a name. */
  'duplicate-initializer',
  /** Two graph inputs share a name. */
  'duplicate-input',
  /** A tensor's stored data does not hold ∏dims elements of its data type. */
  'tensor-data-size',
  /** A tensor or a graph input with a negative dimension. */
  'negative-dim',
  /** A tensor whose dims multiply to more than 2^53 elements: no file or memory holds it. */
  'huge-dim',
  /** A graph input with a fixed dimension of 0, which no calibration sample can fill. */
  'zero-input-dim',
  /** One input tensor (batch 1 for symbolic dims) would need more memory than the budget. */
  'input-too-large',
  /** A quantizable layer whose weight has no element. */
  'empty-weight',
  /** A quantizable layer whose weight holds NaN or ±Infinity. */
  'non-finite-weight',
  /** The model's IR version is outside what onnxruntime reads. */
  'ir-version',
  /** No opset is declared for the default ONNX domain while nodes use it. */
  'opset-missing',
  /** A domain's opset version is outside what onnxruntime runs. */
  'opset-unsupported',
  /** A node uses a domain the model does not import in opset_import. */
  'domain-not-imported',
  /** A node in a domain onnxruntime does not know, and no model-local function defines. */
  'custom-domain',
  /** A default-domain op that ONNX does not define. */
  'unknown-op',
  /** A default-domain op introduced after the model's opset, or deprecated before it. */
  'op-version',
  /** A Conv / ConvTranspose whose group attribute does not fit its weight or input channels. */
  'conv-groups',
] as const;

export type ModelProblemKind = (typeof MODEL_PROBLEM_KINDS)[number];

export interface ModelProblem {
  kind: ModelProblemKind;
  /** One sentence: what is wrong, where, and what to do. Model names already made safe. */
  message: string;
  /** The node at fault (its name, or `<op>:<first output>`), made safe and quoted as in the message. */
  node?: string;
  /** The tensor / value at fault, made safe and quoted as in the message. */
  tensor?: string;
}

/** A model name quoted for a message: control characters escaped, long names cut. */
export function quoted(name: string | undefined): string {
  return `'${safeText(name ?? '')}'`;
}

/**
 * Thrown by assertValidModel when the model cannot be used. It is an INPUT problem: the user must
 * fix or re-export the model, so every shell maps it to its input-error path (the CLI exits 2
 * with `message`, the studio shows `message` and keeps the loaded model), never to "this is a bug".
 */
export class ModelValidationError extends InputError {
  override name = 'ModelValidationError';
  readonly problems: readonly ModelProblem[];

  constructor(problems: readonly ModelProblem[], subject?: string) {
    super(summarize(problems, subject), { subject });
    this.problems = problems;
  }
}

/** One line: the first problem, and how many more there are. */
function summarize(problems: readonly ModelProblem[], subject?: string): string {
  const first = problems[0]?.message ?? 'the model is invalid.';
  const more =
    problems.length > 1
      ? ` (${problems.length - 1} more problem${problems.length > 2 ? 's' : ''} found.)`
      : '';
  const prefix = subject ? `${safeText(subject)}: ` : '';
  return `${prefix}invalid model: ${first}${more}`;
}
