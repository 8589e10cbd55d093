/**
 * What both shells offer (one set: the CLI's --bits and the studio's form agree). The defaults both
 * start from (sweeps 1, seed 0, W4, first/last layer at 8 bits) are the pipeline's own,
 * src/core/pipeline/types.ts defaultQuantizeOptions.
 */

/** Weight bit widths offered: every width the grids, solvers and exporters handle (5 and 6 bits store as 8-bit codes). */
export const BIT_WIDTHS: readonly number[] = [2, 3, 4, 5, 6, 8];
