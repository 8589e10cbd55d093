/**
 * The core's ports: the small interfaces that keep the core free of any particular onnxruntime
 * build (onnxruntime-node in the command line, onnxruntime-web in the browser worker) and of any
 * file or image source. Hosts (src/hosts) fill them; every floor of the core may use them.
 */
/** A dense tensor crossing the onnxruntime boundary. `dims` follows ONNX (NCHW for images). */
export interface TensorData {
  type: 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'int8' | 'bool' | 'float16';
  data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Int8Array | Uint16Array;
  dims: number[];
}

export type Feeds = Record<string, TensorData>;

/** One onnxruntime session over a model's bytes. */
export interface InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the model; returns only the outputs named in `fetches` (all outputs when omitted). */
  run(feeds: Feeds, fetches?: readonly string[]): Promise<Record<string, TensorData>>;
  release(): Promise<void>;
}

/** Creates sessions; names the runtime and execution provider that actually ran. */
export interface InferenceEngine {
  /** e.g. 'onnxruntime-node 1.30.0 (cpu)', 'onnxruntime-web 1.30.0 (webgpu)'. */
  readonly description: string;
  createSession(
    modelBytes: Uint8Array,
    /** threads: at most this many intra-op threads for this session (an engine may use fewer). */
    options?: { optimization?: 'disabled' | 'basic' | 'all'; threads?: number },
  ): Promise<InferenceSession>;
}

/** One calibration or evaluation sample: the model's feeds, plus a name for messages. */
export interface Sample {
  name: string;
  feeds: Feeds;
  /** Class index, when labels are known (classifier evaluation). */
  label?: number;
}

/**
 * A re-iterable, streamed set of samples: each call to samples() decodes again, so memory does not
 * grow with the number of images (the pipeline may iterate several times: sequential mode).
 * Bad items are reported through `onSkip` and skipped, never fatal.
 */
export interface SampleSet {
  readonly count: number;
  samples(onSkip?: (name: string, reason: string) => void): AsyncIterable<Sample>;
}
