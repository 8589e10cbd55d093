import { describe, expect, it } from 'vitest';
import { frontierPlot } from './frontierPlot.ts';

describe('frontierPlot', () => {
  it('puts larger files to the right and lower loss higher, the chosen point on the line, float at the top', () => {
    const frontier = [
      { ratio: 0.16, loss: 0.04 },
      { ratio: 0.2, loss: 0.006 },
      { ratio: 0.3, loss: 5e-5 },
      { ratio: 1, loss: 0 },
    ];
    const plot = frontierPlot({ frontier, chosen: frontier[1], budget: 0.2 }, 400, 200, 20);
    const points = plot.line.split(' ').map((p) => p.split(',').map(Number));
    expect(points).toHaveLength(4);
    for (let i = 1; i < points.length; i++) {
      expect(points[i][0]).toBeGreaterThan(points[i - 1][0]);
      expect(points[i][1]).toBeLessThan(points[i - 1][1]); // SVG y grows downwards
    }
    expect(plot.chosen.x).toBeCloseTo(points[1][0], 0);
    expect(plot.chosen.y).toBeCloseTo(points[1][1], 0);
    expect(plot.budgetX).toBeCloseTo(points[1][0], 0);
    expect(points[3][1]).toBeCloseTo(20, 5);
    expect(plot.xRange).toEqual([0.16, 1]);
  });
});
