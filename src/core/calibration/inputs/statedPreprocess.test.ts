import { describe, expect, it } from 'vitest';
import {
  parseChannelValues,
  parseColor,
  parseResize,
  parseScale,
  preprocessFromMetadata,
  summarizeTensor,
} from './statedPreprocess.ts';

describe('stated preprocessing: text forms', () => {
  it('parses scales, channel values, resize modes and colours', () => {
    expect(parseScale('1/255')).toBeCloseTo(1 / 255, 15);
    expect(parseScale('none')).toBe(1);
    expect(parseChannelValues('0.485, 0.456,0.406', 'mean')).toEqual([0.485, 0.456, 0.406]);
    expect(parseResize('crop:0.9')).toEqual({ resize: 'shorter-side-crop', cropFraction: 0.9 });
    expect(parseResize('pad:127.5')).toEqual({
      resize: 'keep-aspect-pad',
      padValue: 127.5,
      padAlign: 'top-left',
    });
    expect(parseResize('pad-center')).toEqual({ resize: 'keep-aspect-pad', padValue: 0, padAlign: 'center' });
    expect(parseColor('gray')).toEqual({ channels: 1 });
    expect(() => parseResize('crop:1.5')).toThrow(/crop fraction '1.5' must be in \(0, 1\]/);
  });

  it('reads plain mean/std metadata keys and ignores unrelated ones', () => {
    expect(preprocessFromMetadata({ metadataProps: [{ key: 'author', value: 'x' }] })).toBeUndefined();
    const found = preprocessFromMetadata({
      metadataProps: [
        { key: 'mean', value: '[0.5, 0.5, 0.5]' },
        { key: 'std', value: '0.25' },
      ],
    });
    expect(found?.stated).toEqual({ mean: [0.5, 0.5, 0.5], std: [0.25] });
    expect(found?.source).toMatch(/mean=\[0.5, 0.5, 0.5\], std=0.25/);
  });

  it('summarises a tensor per channel in NCHW and NHWC', () => {
    // Two channels, 2 pixels each: channel 0 = {1, 3}, channel 1 = {−2, 0}.
    const nchw = summarizeTensor(Float32Array.from([1, 3, -2, 0]), [1, 2, 1, 2], 'NCHW');
    expect(nchw).toEqual({ dims: [1, 2, 1, 2], min: -2, max: 3, channelMeans: [2, -1] });
    const nhwc = summarizeTensor(Float32Array.from([1, -2, 3, 0]), [1, 1, 2, 2], 'NHWC');
    expect(nhwc.channelMeans).toEqual([2, -1]);
  });
});
