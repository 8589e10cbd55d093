import type { ModelProto } from '../../onnx/types.ts';
import { checkGraphInputs, DEFAULT_INPUT_BUDGET_BYTES } from './inputs.ts';
import { checkLayers } from './layers.ts';
import { checkOpsets } from './opsets.ts';
import { ModelValidationError, type ModelProblem } from './problems.ts';
import { checkStructure } from './structure.ts';
import { checkTensors } from './tensors.ts';

export interface ValidateOptions {
  /** Largest one input tensor may be (batch 1 for symbolic dims), in bytes; default 1 GiB. */
  memoryBudgetBytes?: number;
}

/**
 * Everything that can be known to be wrong with a decoded model before any work: structure,
 * stored tensors, graph inputs, opsets and ops onnxruntime runs, quantizable weights, Conv
 * groups. Pure: reads the model, allocates nothing in proportion to declared shapes, never
 * throws for a malformed model. Returns the problems in that order (empty for a usable model).
 */
export function validateModel(model: ModelProto, options: ValidateOptions = {}): ModelProblem[] {
  const problems: ModelProblem[] = [];
  const graph = model.graph;
  if (!graph) {
    return [
      {
        kind: 'no-graph',
        message:
          'the model has no graph (ModelProto.graph is empty), so there is nothing to run; the file is not a complete model: re-export it.',
      },
    ];
  }
  checkStructure(graph, problems);
  checkTensors(graph, problems);
  // Layer discovery follows values through the graph and reads weight data: on a broken graph or
  // corrupt tensors it could only repeat the same fault, so it runs when those are sound.
  const soundGraph = problems.length === 0;
  checkGraphInputs(graph, options.memoryBudgetBytes ?? DEFAULT_INPUT_BUDGET_BYTES, problems);
  checkOpsets(model, problems);
  if (soundGraph) checkLayers(model, problems);
  return problems;
}

/** Throws ModelValidationError (an input problem: exit 2) when validateModel finds any problem. */
export function assertValidModel(model: ModelProto, options: ValidateOptions = {}, subject?: string): void {
  const problems = validateModel(model, options);
  if (problems.length > 0) throw new ModelValidationError(problems, subject);
}
