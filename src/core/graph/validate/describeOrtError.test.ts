import { describe, expect, it } from 'vitest';
import { cleanOrtText, describeOrtError } from './describeOrtError.ts';

// Real onnxruntime-node 1.30 message shapes are produced in ortRefusals.test.ts; these cases pin
// the wrappers around them (status codes, file prefixes, C++ signatures, stacks).
describe('describeOrtError', () => {
  it('drops the status code, the load prefix and the C++ location with its signature', () => {
    const raw =
      '[ONNXRuntimeError] : 1 : FAIL : Load model from /tmp/m.onnx failed:/onnxruntime_src/onnxruntime/core/graph/model.cc:202 onnxruntime::Model::Model(onnx::ModelProto&&, const onnxruntime::PathString&, const onnxruntime::IOnnxRuntimeOpSchemaRegistryList*, const onnxruntime::logging::Logger&, const onnxruntime::ModelOptions&) Unsupported model IR version: 14, max supported IR version: 13\n';
    expect(cleanOrtText(raw)).toBe('Unsupported model IR version: 14, max supported IR version: 13');
    expect(describeOrtError(raw)).toBe(
      "the model's IR version 14 is newer than onnxruntime reads (up to 13); re-export the model with ir_version 13 or lower.",
    );
  });

  it('drops a bare `file.cc:line Function` location and nested template signatures', () => {
    expect(
      cleanOrtText(
        'tensorprotoutils.cc:1422 GetSizeInBytesFromTensorProto Out of bounds dimensions in TypeProto_Tensor',
      ),
    ).toBe('Out of bounds dimensions in TypeProto_Tensor');
    expect(
      cleanOrtText(
        '/x/graph.cc:9 void onnxruntime::Graph::F(std::function<void (int)>, const std::map<int, (anonymous)>&) const Something broke.',
      ),
    ).toBe('Something broke.');
  });

  it('drops lambda and template suffixes of signatures, as in real string_normalizer / rnn messages', () => {
    expect(
      cleanOrtText(
        '/onnxruntime_src/onnxruntime/core/providers/cpu/nn/string_normalizer.cc:149 onnxruntime::StringNormalizer::StringNormalizer(const onnxruntime::OpKernelInfo&)::<lambda()> Failed to construct locale with name:en_US.UTF-8',
      ),
    ).toBe('Failed to construct locale with name:en_US.UTF-8');
    expect(
      cleanOrtText(
        '/x/rnn.h:50 onnxruntime::RNN<T>::RNN(const onnxruntime::OpKernelInfo&) [with T = float] layout_ == 0 was false.',
      ),
    ).toBe('layout_ == 0 was false.');
  });

  it('names an unnamed node as such, and a data type by its name', () => {
    expect(describeOrtError("Could not find an implementation for Add(6) node with name ''")).toMatch(
      /^onnxruntime has no kernel for Add \(version 6\) used by an unnamed node,/,
    );
    expect(describeOrtError('Unsupported data type: 16')).toMatch(
      /^onnxruntime does not support tensors of BFLOAT16 here;/,
    );
  });

  it('drops stack lines and keeps an unknown message as one cleaned, safe line', () => {
    const line = describeOrtError(
      'Error: Weird\x1b[31m thing happened.\n    at Object.<anonymous> (/a/b.js:1:2)\n    at run (/a/c.js:3:4)',
    );
    expect(line).toBe('onnxruntime could not use the model: Weird\\x1b[31m thing happened.');
  });

  it('truncates a very long unknown message', () => {
    const line = describeOrtError(`Strange failure ${'x'.repeat(2000)}`);
    expect(line.length).toBeLessThan(400);
    expect(line).toMatch(/…\.$/);
  });

  it('names the node of a run-time failure without the executor prefix', () => {
    expect(
      describeOrtError(
        "Non-zero status code returned while running Reshape node. Name:'r1' Status Message: The input tensor cannot be reshaped to the requested shape. Input shape:{1,6}, requested shape:{5}",
      ),
    ).toBe(
      "node 'r1' (Reshape) failed while running: The input tensor cannot be reshaped to the requested shape. Input shape:{1,6}, requested shape:{5}; check the input shape and the model.",
    );
  });
});
