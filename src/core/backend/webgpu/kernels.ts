/**
 * Compute pipelines, built once per device (docs/design.md, principle 1). Kernels whose entry
 * points share buffers (comq, gptq) use one explicit bind group layout so one bind group serves
 * every entry point; single-entry kernels use their own explicit layout too, so a binding that a
 * compiler optimises away never changes the layout.
 */
import { shaderSources, type KernelName } from './shaderSources.ts';

type BindingKind = 'read' | 'storage' | 'uniform';

/** Binding kinds in binding order, mirroring each .wgsl file's declarations. */
export const kernelBindings: Record<KernelName, readonly BindingKind[]> = {
  gram: ['read', 'read', 'storage', 'uniform'],
  im2col: ['read', 'read', 'storage', 'uniform'],
  comq: ['read', 'read', 'read', 'storage', 'storage', 'storage', 'storage', 'storage', 'uniform'],
  rtn: ['read', 'read', 'storage', 'storage', 'uniform'],
  objective: ['read', 'read', 'read', 'storage', 'storage', 'storage', 'uniform'],
  gptq: ['read', 'read', 'read', 'storage', 'storage', 'storage', 'uniform'],
  pack: ['read', 'read', 'storage', 'uniform'],
};

/** Workgroup sizes (the `override` constants); one place to tune them per device class. */
export interface KernelTuning {
  gramTile: [number, number];
  gramSegmentRows: number;
  linearWorkgroup: number;
}

export const defaultTuning: KernelTuning = { gramTile: [8, 8], gramSegmentRows: 256, linearWorkgroup: 64 };

export class Kernels {
  private readonly layouts = new Map<KernelName, GPUBindGroupLayout>();
  private readonly modules = new Map<KernelName, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(readonly device: GPUDevice, readonly tuning: KernelTuning = defaultTuning) {}

  layout(kernel: KernelName): GPUBindGroupLayout {
    let layout = this.layouts.get(kernel);
    if (!layout) {
      layout = this.device.createBindGroupLayout({
        label: `${kernel} bindings`,
        entries: kernelBindings[kernel].map((kind, binding) => ({
          binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: kind === 'read' ? 'read-only-storage' : kind === 'storage' ? 'storage' : 'uniform' },
        })),
      });
      this.layouts.set(kernel, layout);
    }
    return layout;
  }

  private constants(kernel: KernelName): Record<string, number> {
    const t = this.tuning;
    if (kernel === 'gram') return { WG_X: t.gramTile[0], WG_Y: t.gramTile[1], SEGMENT_ROWS: t.gramSegmentRows };
    if (kernel === 'objective') return { WG: t.linearWorkgroup, WG_X: t.gramTile[0], WG_Y: t.gramTile[1] };
    return { WG: t.linearWorkgroup };
  }

  pipeline(kernel: KernelName, entryPoint = 'main'): GPUComputePipeline {
    const key = `${kernel}:${entryPoint}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      let module = this.modules.get(kernel);
      if (!module) {
        module = this.device.createShaderModule({ label: `${kernel}.wgsl`, code: shaderSources[kernel] });
        this.modules.set(kernel, module);
      }
      pipeline = this.device.createComputePipeline({
        label: key,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [this.layout(kernel)] }),
        compute: { module, entryPoint, constants: this.constants(kernel) },
      });
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** A bind group of `buffers` in binding order (the order of kernelBindings[kernel]). */
  bindGroup(kernel: KernelName, buffers: readonly GPUBuffer[]): GPUBindGroup {
    const expected = kernelBindings[kernel].length;
    if (buffers.length !== expected) {
      throw new Error(`${kernel}: ${buffers.length} buffers given, the kernel binds ${expected}`);
    }
    return this.device.createBindGroup({
      label: `${kernel} group`,
      layout: this.layout(kernel),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
  }
}

/** Encodes one dispatch in its own compute pass of `encoder`. */
export function encodeDispatch(
  encoder: GPUCommandEncoder,
  pipeline: GPUComputePipeline,
  bindGroup: GPUBindGroup,
  workgroups: readonly [number, number?, number?],
): void {
  const pass = encoder.beginComputePass({ label: pipeline.label });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
  pass.end();
}
