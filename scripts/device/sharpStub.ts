/**
 * Stand-in for `sharp` in the bundles of scripts/device/bundle.ts: sharp's native libvips does not
 * fit the lent GPU machine's transfer limit, and that machine's python3 has Pillow. This decodes
 * with Pillow in a child process and implements only the calls the repository makes
 * (src/hosts/node/decodeImage.ts, src/testing/images.ts): metadata(), rotate() (EXIF),
 * toColourspace('srgb'), ensureAlpha(), removeAlpha(), resize(w, h, { fit: 'fill' }) (bilinear,
 * so values differ slightly from libvips), raw(), toBuffer({ resolveWithObject }).
 */
import { execFileSync } from 'node:child_process';

const PILLOW = `
import io, json, sys
from PIL import Image, ImageOps
args = json.loads(sys.argv[1])
source = args['path'] if args['path'] else io.BytesIO(sys.stdin.buffer.read())
image = Image.open(source)
if args['meta']:
    sys.stdout.write(json.dumps({'width': image.width, 'height': image.height})); sys.exit()
for op in args['ops']:
    if op[0] == 'rotate': image = ImageOps.exif_transpose(image)
    elif op[0] == 'resize': image = image.convert('RGBA' if image.mode in ('RGBA', 'LA', 'P') else 'RGB').resize((op[1], op[2]), Image.BILINEAR)
image = image.convert('RGBA' if args['alpha'] else 'RGB')
sys.stdout.buffer.write(json.dumps({'width': image.width, 'height': image.height, 'channels': len(image.getbands())}).encode() + b'\\n' + image.tobytes())
`;

interface Info {
  width: number;
  height: number;
  channels: number;
}

class PillowImage {
  private readonly ops: unknown[][] = [];
  private alpha = false;

  constructor(private readonly input: string | Uint8Array) {}

  private python(meta: boolean): Buffer {
    const path = typeof this.input === 'string' ? this.input : '';
    return execFileSync(
      'python3',
      ['-c', PILLOW, JSON.stringify({ path, meta, ops: this.ops, alpha: this.alpha })],
      {
        input: typeof this.input === 'string' ? undefined : this.input,
        maxBuffer: 1 << 30,
      },
    );
  }

  async metadata(): Promise<{ width: number; height: number }> {
    return JSON.parse(this.python(true).toString('utf8'));
  }
  rotate(): this {
    this.ops.push(['rotate']);
    return this;
  }
  toColourspace(): this {
    return this;
  }
  ensureAlpha(): this {
    this.alpha = true;
    return this;
  }
  removeAlpha(): this {
    this.alpha = false;
    return this;
  }
  resize(width: number, height: number): this {
    this.ops.push(['resize', width, height]);
    return this;
  }
  raw(): this {
    return this;
  }
  async toBuffer(): Promise<{ data: Buffer; info: Info }> {
    const output = this.python(false);
    const newline = output.indexOf(10);
    return {
      info: JSON.parse(output.subarray(0, newline).toString('utf8')),
      data: output.subarray(newline + 1),
    };
  }
}

export default function sharp(input: string | Uint8Array): PillowImage {
  return new PillowImage(input);
}
