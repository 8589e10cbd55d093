/**
 * NumPy `.npy` files (format versions 1.0, 2.0, 3.0, as specified in numpy/lib/format.py):
 * magic "\x93NUMPY", major and minor version bytes, header length (uint16 LE for v1, uint32 LE for
 * v2/v3), an ASCII (v3: UTF-8) Python dict literal {'descr', 'fortran_order', 'shape'} padded with
 * spaces to a multiple of 64 bytes and ending in '\n', then the raw array data.
 */
import type { Sample, TensorData } from '../../base/ports.ts';
import type { ModelInputInfo } from './presets.ts';

export interface NpyHeader {
  /** numpy dtype string, e.g. '<f4'. */
  descr: string;
  shape: number[];
  /** Byte offset of the array data. */
  dataOffset: number;
}

export class NpyFormatError extends Error {
  override name = 'NpyFormatError';
}

/** dtype string → tensor type, bytes per element. Little-endian only ('|' = byte-sized). */
const DTYPES: Record<string, { type: TensorData['type']; bytes: number; numpy: string }> = {
  '<f4': { type: 'float32', bytes: 4, numpy: 'float32' },
  '<f8': { type: 'float32', bytes: 8, numpy: 'float64' },
  '<i8': { type: 'int64', bytes: 8, numpy: 'int64' },
  '<i4': { type: 'int32', bytes: 4, numpy: 'int32' },
  '|u1': { type: 'uint8', bytes: 1, numpy: 'uint8' },
  '|i1': { type: 'int8', bytes: 1, numpy: 'int8' },
};
const SUPPORTED = Object.keys(DTYPES).join(', ');

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Parses the header; needs only the first bytes of the file (magic + header, usually 128). */
export function parseNpyHeader(bytes: Uint8Array, name: string): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new NpyFormatError(
      `${name} is not a .npy file (it does not start with "\\x93NUMPY"); save arrays with numpy.save`,
    );
  }
  const major = bytes[6];
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = bytes[8] | (bytes[9] << 8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new NpyFormatError(`${name}: .npy header is truncated`);
    headerLength = (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16)) + bytes[11] * 2 ** 24;
    headerStart = 12;
  } else {
    throw new NpyFormatError(
      `${name}: .npy format version ${major}.${bytes[7]} is not supported (1.0, 2.0 and 3.0 are)`,
    );
  }
  if (bytes.length < headerStart + headerLength)
    throw new NpyFormatError(`${name}: .npy header is truncated (${headerLength} bytes announced)`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(headerStart, headerStart + headerLength),
  );
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new NpyFormatError(
      `${name}: .npy header is not a {'descr', 'fortran_order', 'shape'} dict: ${header.trim()}`,
    );
  }
  if (fortran === 'True') {
    throw new NpyFormatError(
      `${name}: Fortran-ordered (column-major) arrays are not supported; save numpy.ascontiguousarray(a) instead`,
    );
  }
  if (!Object.hasOwn(DTYPES, descr)) {
    throw new NpyFormatError(
      `${name}: dtype '${descr}' is not supported; use one of ${SUPPORTED} (little-endian)`,
    );
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const d = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(d) || d < 0)
        throw new NpyFormatError(`${name}: .npy shape (${shapeText}) has a bad dimension '${s}'`);
      return d;
    });
  return { descr, shape, dataOffset: headerStart + headerLength };
}

/** Parses a whole .npy file into a tensor (float64 is narrowed to float32). */
export function parseNpy(bytes: Uint8Array, name: string): TensorData {
  const header = parseNpyHeader(bytes, name);
  const dtype = DTYPES[header.descr];
  const elements = header.shape.reduce((a, b) => a * b, 1);
  const byteLength = elements * dtype.bytes;
  if (bytes.length - header.dataOffset < byteLength) {
    throw new NpyFormatError(
      `${name}: .npy data is truncated: shape (${header.shape.join(', ')}) of ${header.descr} needs ${byteLength} bytes, the file has ${bytes.length - header.dataOffset}`,
    );
  }
  // Copy: the data offset need not be aligned for a typed-array view.
  const raw = bytes.slice(header.dataOffset, header.dataOffset + byteLength).buffer;
  let data: TensorData['data'];
  switch (header.descr) {
    case '<f4':
      data = new Float32Array(raw);
      break;
    case '<f8':
      data = Float32Array.from(new Float64Array(raw));
      break;
    case '<i8':
      data = new BigInt64Array(raw);
      break;
    case '<i4':
      data = new Int32Array(raw);
      break;
    case '|u1':
      data = new Uint8Array(raw);
      break;
    default:
      data = new Int8Array(raw);
      break;
  }
  return { type: dtype.type, data, dims: header.shape };
}

/** numpy's name of a header's dtype, for messages. */
export function npyDtypeName(descr: string): string {
  return DTYPES[descr]?.numpy ?? descr;
}

const tuple = (dims: (number | string)[]): string => `(${dims.join(', ')}${dims.length === 1 ? ',' : ''})`;

/** Which dtypes a model input of `elemType` accepts (float64 narrows to float32, int32 widens to int64). */
const ACCEPTS: Record<string, string[]> = {
  float32: ['<f4', '<f8'],
  int64: ['<i8', '<i4'],
  int32: ['<i4'],
  uint8: ['|u1'],
  int8: ['|i1'],
};

/** How a file of `fileShape` splits into samples for `input`: the count and each sample's dims. */
export interface NpySplit {
  count: number;
  /** Dims of each sample as fed to the model (with the batch dim of 1 where the model has one). */
  sampleDims: number[];
}

/** Validates a file's shape and dtype against `input`; throws a message naming file, expected and found. */
export function npySplit(
  fileShape: number[],
  descr: string,
  fileName: string,
  input: ModelInputInfo,
): NpySplit {
  const accepted = ACCEPTS[input.elemType];
  if (!accepted)
    throw new NpyFormatError(
      `${fileName}: input '${input.name}' is ${input.elemType}; .npy inputs are supported for float32, int64, int32, uint8 and int8 inputs`,
    );
  if (!accepted.includes(descr)) {
    throw new NpyFormatError(
      `${fileName}: dtype ${npyDtypeName(descr)} ('${descr}') does not fit input '${input.name}' of type ${input.elemType}; expected ${accepted.map((d) => `${npyDtypeName(d)} ('${d}')`).join(' or ')}`,
    );
  }
  const model = input.shape;
  // Axis 0 is a batch axis when it is symbolic or 1; then a file may omit it or stack samples along it.
  const batched = model.length > 0 && (typeof model[0] !== 'number' || model[0] <= 1);
  const matches = (found: number[], expected: (number | string)[]): boolean =>
    found.length === expected.length &&
    found.every(
      (d, i) => typeof expected[i] !== 'number' || (expected[i] as number) <= 0 || expected[i] === d,
    );
  if (batched && matches(fileShape, model.slice(1))) return { count: 1, sampleDims: [1, ...fileShape] };
  if (batched && fileShape.length === model.length && matches(fileShape.slice(1), model.slice(1))) {
    return { count: fileShape[0], sampleDims: [1, ...fileShape.slice(1)] };
  }
  if (!batched && matches(fileShape, model)) return { count: 1, sampleDims: fileShape };
  const expected = batched
    ? `${tuple(model.slice(1))} for one sample or ${tuple(['N', ...model.slice(1)])} for a batch`
    : tuple(model);
  throw new NpyFormatError(
    `${fileName}: shape ${tuple(fileShape)} does not fit input '${input.name}' of shape [${model.join(', ')}]; expected ${expected}`,
  );
}

/** Splits a .npy file into samples for `input`, validating shape and type (named `file[i]` in a batch). */
export function npySamples(bytes: Uint8Array, name: string, input: ModelInputInfo): Sample[] {
  const header = parseNpyHeader(bytes, name);
  // Validate before reading the data, so a wrong file fails with the shape/type message.
  const split = npySplit(header.shape, header.descr, name, input);
  const tensor = parseNpy(bytes, name);
  const perSample = split.sampleDims.reduce((a, b) => a * b, 1);
  const samples: Sample[] = [];
  for (let i = 0; i < split.count; i++) {
    let data = tensor.data.slice(i * perSample, (i + 1) * perSample) as TensorData['data'];
    let type = tensor.type;
    if (input.elemType === 'int64' && data instanceof Int32Array) {
      // int32 file for an int64 input: widen (lossless).
      data = BigInt64Array.from(data, (v) => BigInt(v));
      type = 'int64';
    }
    samples.push({
      name: split.count === 1 ? name : `${name}[${i}]`,
      feeds: { [input.name]: { type, data, dims: [...split.sampleDims] } },
    });
  }
  return samples;
}
