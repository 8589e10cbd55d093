/**
 * onnxruntime's error texts, for the problems the model check cannot see before a session exists
 * (or that slip past it), turned into one line a user can act on: no status codes, no C++ file
 * names or function signatures, no stack, names from the model made safe.
 */
import { safeText } from '../../base/safeText.ts';
import { dataTypeName } from '../../onnx/index.ts';
import { ORT_OPSET_RANGE } from './opsets.ts';

/** Longest text kept from an onnxruntime message that no rule below recognises. */
const UNKNOWN_TEXT_MAX_CHARS = 300;

interface Rule {
  pattern: RegExp;
  /** The user's line from the match; names already made safe by the caller. */
  describe: (match: RegExpMatchArray) => string;
}

const REEXPORT = 're-export the model';

/** Known onnxruntime 1.30 messages (each produced by a test in describeOrtError.test.ts). */
const RULES: readonly Rule[] = [
  {
    pattern: /No graph was found in the protobuf/i,
    describe: () =>
      `the file holds no graph, so it is not a complete ONNX model; ${REEXPORT} or download it again.`,
  },
  {
    pattern: /graph is not acyclic/i,
    describe: () => `the graph has a cycle (nodes feed each other), so it cannot run; ${REEXPORT}.`,
  },
  {
    pattern: /Node input '([^']*)' is not a graph input, initializer, or output of a previous node/i,
    describe: (m) =>
      `a node reads '${m[1]}', which nothing in the graph defines; the model is incomplete: ${REEXPORT}.`,
  },
  {
    pattern: /Graph output \((.*)\) does not exist in the graph/i,
    describe: (m) =>
      `graph output '${m[1]}' is not produced by any node; the model is incomplete: ${REEXPORT}.`,
  },
  {
    pattern: /Duplicate definition(?:-site)? (?:of name |for )\((.*)\)/i,
    describe: (m) =>
      `the name '${m[1]}' is defined twice in the graph; each value must be defined once: ${REEXPORT}.`,
  },
  {
    pattern:
      /Initializer '([^']*)': raw_data size \((\d+) bytes\) does not match expected size from shape and data type \((\d+) bytes\)/i,
    describe: (m) =>
      `tensor '${m[1]}' stores ${m[2]} bytes but its shape needs ${m[3]}; the file is damaged: re-export or re-download the model.`,
  },
  {
    pattern:
      /Deserialize tensor (.*?) failed\..*?tensor shape size\((\d+)\) does not match the data size\((\d+)\)/i,
    describe: (m) =>
      `tensor '${m[1]}' stores ${m[3]} values but its shape needs ${m[2]}; the file is damaged: re-export or re-download the model.`,
  },
  {
    pattern:
      /Initializer '([^']*)': data field count \((\d+)\) does not match expected count from shape \((\d+)\)/i,
    describe: (m) =>
      `tensor '${m[1]}' stores ${m[2]} values but its shape needs ${m[3]}; the file is damaged: re-export or re-download the model.`,
  },
  {
    pattern: /Out of bounds dimensions in TypeProto_Tensor|negative dimension/i,
    describe: () =>
      `a tensor has a negative or out-of-range dimension; the file is damaged: re-export or re-download the model.`,
  },
  {
    // Seen for an external tensor whose dims multiply beyond int64 byte counts.
    pattern: /Failed to parse value: "([^"]*)"/i,
    describe: (m) =>
      `onnxruntime cannot parse the value "${m[1]}" in the model (seen for external-data entries and tensor sizes beyond any file); the file is damaged: re-export or re-download the model.`,
  },
  {
    pattern: /Unsupported model IR version: (\d+), max supported IR version: (\d+)/i,
    describe: (m) =>
      `the model's IR version ${m[1]} is newer than onnxruntime reads (up to ${m[2]}); ${REEXPORT} with ir_version ${m[2]} or lower.`,
  },
  {
    pattern: /Missing opset in the model/i,
    describe: () =>
      `the model declares no opset; ${REEXPORT} with an opset between ${ORT_OPSET_RANGE.guaranteedMin} and ${ORT_OPSET_RANGE.max}.`,
  },
  {
    pattern: /Opset (\d+) is under development.*official support for domain (\S+) is till opset (\d+)/i,
    describe: (m) =>
      `the model uses opset ${m[1]} of domain ${m[2]}, newer than onnxruntime runs (up to ${m[3]}); ${REEXPORT} at opset ${m[3]} or lower.`,
  },
  {
    pattern: /Op registered for (\S+) is deprecated in domain_version of (\d+)/i,
    describe: (m) =>
      `op ${m[1]} is deprecated at the model's opset ${m[2]}; ${REEXPORT} with its replacement op (Upsample → Resize, Scatter → ScatterElements).`,
  },
  {
    pattern: /No Op registered for (\S+) with domain_version of (\d+)/i,
    describe: (m) =>
      `onnxruntime has no op ${m[1]} at opset ${m[2]} (unknown op, or one that opset does not have); ${REEXPORT} with standard ONNX ops at an opset between ${ORT_OPSET_RANGE.guaranteedMin} and ${ORT_OPSET_RANGE.max}.`,
  },
  {
    pattern: /Could not find an implementation for (\S+?)\((\d+)\) node with name '([^']*)'/i,
    describe: (m) =>
      `onnxruntime has no kernel for ${m[1]} (version ${m[2]}) used by ${m[3] ? `node '${m[3]}'` : 'an unnamed node'}, for these input types or this opset; ${REEXPORT} at an opset between ${ORT_OPSET_RANGE.guaranteedMin} and ${ORT_OPSET_RANGE.max} with float32 or standard types.`,
  },
  {
    pattern: /Unsupported data type: (\d+)/i,
    describe: (m) =>
      `onnxruntime does not support tensors of ${dataTypeName(Number(m[1]))} here; ${REEXPORT} with float32 (or another type onnxruntime supports for these ops).`,
  },
  {
    pattern: /(\S+):(\S+)\(-?\d+\) is not a registered function\/op/i,
    describe: (m) =>
      `op ${m[2]} of domain '${m[1]}' is not known to onnxruntime (a custom op, or a domain the model does not import); ${REEXPORT} with standard ONNX ops.`,
  },
  {
    pattern:
      /running (\S+) node\. Name:'([^']*)' Status Message: Input channels C is not equal to kernel channels \* group\. C: (\d+) kernel channels: (\d+) group: (-?\d+)/i,
    describe: (m) =>
      `${m[1]} node '${m[2]}' has ${m[3]} input channels but its weight (${m[4]} channels per group) and group = ${m[5]} do not match them; fix the group attribute or the weight and ${REEXPORT}.`,
  },
  {
    pattern: /running (\S+) node\. Name:'([^']*)' Status Message: (.*)/i,
    describe: (m) =>
      `node '${m[2]}' (${m[1]}) failed while running: ${m[3].replace(/\.?$/, '')}; check the input shape and the model.`,
  },
];

/**
 * One user-facing line for an onnxruntime error message: a recognised message becomes a sentence
 * saying what is wrong and what to do; anything else keeps onnxruntime's own words, cleaned of
 * status codes, C++ locations and signatures, and stack lines.
 */
export function describeOrtError(message: string): string {
  const text = cleanOrtText(message);
  for (const rule of RULES) {
    const match = text.match(rule.pattern);
    if (match) return rule.describe(match.map((part) => safeText(part ?? '', 120)) as RegExpMatchArray);
  }
  return `onnxruntime could not use the model: ${safeText(text.replace(/\.?$/, ''), UNKNOWN_TEXT_MAX_CHARS)}.`;
}

/**
 * True when `message` is one of the onnxruntime refusals above: a problem of the model (or of its
 * input shape), which the shells report as an input problem rather than as a bug.
 */
export function isKnownOrtError(message: string): boolean {
  const text = cleanOrtText(message);
  return RULES.some((rule) => rule.pattern.test(text));
}

/**
 * onnxruntime's own words, without: `[ONNXRuntimeError] : 2 : INVALID_ARGUMENT :` status
 * prefixes, `Load model from … failed:`, `/onnxruntime_src/…/file.cc:123 <C++ signature>` or
 * `file.cc:123 FunctionName` locations, the `In Node, (…) : (…) -> (…) ,` node dump, stack lines
 * ("at …"), and line breaks.
 */
export function cleanOrtText(message: string): string {
  let text = message
    .split('\n')
    .filter((line) => !/^\s+at\s/.test(line))
    .join(' ');
  text = text.replace(/\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*[A-Z_]+\s*:\s*/g, '');
  text = text.replace(/Load model from .*? failed:\s*/i, '');
  text = stripCppLocations(text);
  text = text.replace(/In Node, \(.*?\) : \(.*?\) -> \(.*?\) ,\s*/, '');
  text = text.replace(/^(?:This is an invalid model\.|Invalid model\.)\s*/i, '');
  text = text.replace(/^(?:Fatal error|Error|Exception during initialization):?\s*/i, '');
  return text.replace(/\s+/g, ' ').trim();
}

/** Removes `path/file.cc:123 ` and the C++ signature or function name that follows it. */
function stripCppLocations(text: string): string {
  let out = text;
  for (;;) {
    const location = /(?:\S*\/)?[\w.-]+\.(?:cc|cpp|h|hpp|cu):\d+\s+/.exec(out);
    if (!location) return out;
    const rest = out.slice(location.index + location[0].length);
    out = out.slice(0, location.index) + rest.slice(signatureLength(rest));
  }
}

/**
 * Length of the C++ signature or bare function name at the start of `text`. A signature
 * (`void onnxruntime::Graph::Resolve(const std::vector<…>&, …) const`) has a `::` before its `(`:
 * it runs through the matching `)` (parameter lists nest parentheses), a trailing ` const`, and
 * the space after it. Otherwise the location is followed by a bare function name, one word.
 */
function signatureLength(text: string): number {
  const open = text.indexOf('(');
  if (open < 0 || !text.slice(0, open).includes('::')) {
    const space = text.search(/\s/);
    return space < 0 ? text.length : space + 1;
  }
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) {
      // A lambda's or a template's suffix: `…)::<lambda()>`, `…) const [with T = float]`.
      const tail = /^(?:::<lambda\(\)>)?(?:\s+const)?(?:\s*\[with [^\]]*\])?\s*/.exec(text.slice(i + 1));
      return i + 1 + (tail?.[0].length ?? 0);
    }
  }
  return text.length;
}
