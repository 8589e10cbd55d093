/** The CLI's failure printer: exit codes, one line, and onnxruntime's text reduced to its line. */
import { describe, expect, it } from 'vitest';
import { InputError } from '../core/base/inputError.ts';
import { OrtError } from '../hosts/ortError.ts';
import { CliUsageError, describeFailure, EXIT_INTERNAL, EXIT_USAGE } from './errors.ts';

const RAW_CYCLE =
  '[ONNXRuntimeError] : 1 : FAIL : Load model from m.onnx failed:/onnxruntime_src/onnxruntime/core/graph/graph.cc:1459 onnxruntime::common::Status onnxruntime::Graph::BuildConnections(std::unordered_set<std::basic_string<char> >&) This is an invalid model. Error: the graph is not acyclic.';

describe('describeFailure', () => {
  it('prints input problems with exit 2 as one line', () => {
    expect(describeFailure(new CliUsageError('bad\nflag'))).toEqual({
      exitCode: EXIT_USAGE,
      line: 'comq: error: bad flag',
    });
    expect(describeFailure(new InputError('m.onnx: no layer')).exitCode).toBe(EXIT_USAGE);
  });

  it("turns raw onnxruntime text about the model into describeOrtError's line, exit 2", () => {
    const failure = describeFailure(new Error(RAW_CYCLE));
    expect(failure.exitCode).toBe(EXIT_USAGE);
    expect(failure.line).toMatch(/^comq: error: the graph has a cycle/);
    expect(failure.line).not.toMatch(/ONNXRuntimeError|graph\.cc|::|FAIL/);
  });

  it('keeps an OrtError as translated by the host', () => {
    const failure = describeFailure(new OrtError('load', RAW_CYCLE));
    expect(failure).toEqual({
      exitCode: EXIT_USAGE,
      line: expect.stringMatching(/^comq: error: the graph has a cycle/),
    });
  });

  it('reports unknown onnxruntime text and other errors as bugs (exit 1), still without C++', () => {
    const ort = describeFailure(
      new Error('/onnxruntime_src/x/y.cc:12 void onnxruntime::F(int) Something odd happened.'),
    );
    expect(ort.exitCode).toBe(EXIT_INTERNAL);
    expect(ort.line).toMatch(
      /^comq: internal error: OrtError: onnxruntime could not use the model: Something odd happened\./,
    );
    expect(ort.line).not.toMatch(/y\.cc|::/);
    const bug = describeFailure(new TypeError('x is undefined'));
    expect(bug).toEqual({
      exitCode: EXIT_INTERNAL,
      line: 'comq: internal error: TypeError: x is undefined (this is a bug; rerun with COMQ_DEBUG=1 to print the stack)',
    });
  });
});
