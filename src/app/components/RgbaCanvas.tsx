import { useEffect, useRef } from 'react';

interface Props {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
  label: string;
  testId?: string;
  /** CSS width the canvas is drawn at; the bitmap keeps the tensor's own size. */
  displayWidth?: number;
}

/** Paints an RGBA buffer (width × height × 4) at its own resolution, scaled by CSS. */
export function RgbaCanvas({ width, height, rgba, label, testId, displayWidth = 240 }: Props) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = canvasRef.current;
    const context = canvas?.getContext('2d');
    if (!canvas || !context || rgba.length !== width * height * 4) return;
    context.putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
  }, [width, height, rgba]);
  return (
    <figure className="rgba-figure">
      <canvas
        ref={canvasRef}
        width={width}
        height={height}
        style={{ width: displayWidth }}
        data-testid={testId}
        aria-label={label}
        role="img"
      />
      <figcaption style={{ maxWidth: displayWidth, overflowWrap: 'anywhere' }}>{label}</figcaption>
    </figure>
  );
}
