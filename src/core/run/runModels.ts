/** The three models a finished run keeps, decoded, each encoded at most once (../pipeline/lazyModel.ts). */
import type { InlinedBranches } from '../graph/subgraph/renestBranches.ts';
import type { LazyModel } from '../pipeline/lazyModel.ts';

export interface RunModels {
  /** The normalised float model, input sizes fixed from the first calibration sample. */
  normalized: LazyModel;
  /** The same graph carrying the dequantized weights. */
  quantized: LazyModel;
  /** The normalised float model with its own (symbolic) input sizes: what exporters start from. */
  exportBase: LazyModel;
  /** Set when If branches were inlined for calibration: the export puts them back. */
  branches?: InlinedBranches;
}
