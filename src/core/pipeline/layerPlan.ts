/**
 * Per-layer decisions taken before any capture: bits (options, first/last policy, overrides),
 * keep-float, and the grid each solver call gets.
 */
import type { QuantizableLayer } from '../graph/layers/index.ts';
import { validateGridSpec } from '../base/grid.ts';
import { InputError } from '../base/inputError.ts';
import type { GridSpec } from '../quant/types.ts';
import type { QuantizeOptions } from './types.ts';
import { unsupportedReason } from './layerGram.ts';

export type LayerPlan =
  | { layer: QuantizableLayer; action: 'quantize'; grid: GridSpec }
  | { layer: QuantizableLayer; action: 'float'; reason: string };

/**
 * Bits for layer `index` of `count` (graph order): an override's bits win, then the first/last
 * policy (first and last quantizable layers are the most sensitive, hence 8 bits by default), then
 * `options.bits`.
 */
export function layerBits(name: string, index: number, count: number, options: QuantizeOptions): number {
  const override = options.overrides[name];
  if (override?.bits !== undefined) return override.bits;
  if (options.firstLastBits !== null && (index === 0 || index === count - 1)) return options.firstLastBits;
  return options.bits;
}

export function planLayers(layers: readonly QuantizableLayer[], options: QuantizeOptions): LayerPlan[] {
  const known = new Set(layers.map((l) => l.name));
  const unknown = Object.keys(options.overrides).filter((n) => !known.has(n));
  if (unknown.length > 0) {
    // The user's own setting (the CLI's --keep, the studio's per-layer choices): an input problem.
    throw new InputError(
      `the layer override (--keep) names ${unknown.map((n) => `'${n}'`).join(', ')}, which ${unknown.length === 1 ? 'is not a' : 'are not'} quantizable layer${unknown.length === 1 ? '' : 's'} of this model; ` +
        `use the names 'comq inspect' lists (e.g. '${layers[0]?.name ?? '?'}').`,
    );
  }
  return layers.map((layer, index): LayerPlan => {
    if (options.overrides[layer.name]?.keepFloat)
      return { layer, action: 'float', reason: 'kept in float by override' };
    const unsupported = unsupportedReason(layer);
    if (unsupported) return { layer, action: 'float', reason: unsupported };
    const grid: GridSpec = {
      bits: layerBits(layer.name, index, layers.length, options),
      kind: options.grid,
      clip: options.clip,
    };
    if (options.groupSize !== undefined) grid.blockSize = options.groupSize;
    try {
      validateGridSpec(grid);
    } catch (e) {
      return { layer, action: 'float', reason: `grid not usable: ${(e as Error).message}` };
    }
    return { layer, action: 'quantize', grid };
  });
}
