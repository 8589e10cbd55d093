/**
 * Compute pipelines, built once per device from the kernel descriptors (docs/design.md, principle 1). Kernels whose entry
 * points share buffers (comq, gptq) use one explicit bind group layout so one bind group serves
 * every entry point; single-entry kernels use their own explicit layout too, so a binding that a
 * compiler optimises away never changes the layout.
 */
import { defaultTuning, type KernelDescriptor, type KernelTuning } from './descriptor.ts';

export class Kernels {
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(
    readonly device: GPUDevice,
    readonly tuning: KernelTuning = defaultTuning,
  ) {}

  layout(kernel: KernelDescriptor): GPUBindGroupLayout {
    let layout = this.layouts.get(kernel.name);
    if (!layout) {
      layout = this.device.createBindGroupLayout({
        label: `${kernel.name} bindings`,
        entries: kernel.bindings.map(([, kind], binding) => ({
          binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: {
            type: kind === 'read' ? 'read-only-storage' : kind === 'storage' ? 'storage' : 'uniform',
          },
        })),
      });
      this.layouts.set(kernel.name, layout);
    }
    return layout;
  }

  pipeline<Entry extends string>(
    kernel: KernelDescriptor<Entry>,
    entryPoint: NoInfer<Entry>,
  ): GPUComputePipeline {
    const key = `${kernel.name}:${entryPoint}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      let module = this.modules.get(kernel.name);
      if (!module) {
        module = this.device.createShaderModule({ label: `${kernel.name}.wgsl`, code: kernel.source });
        this.modules.set(kernel.name, module);
      }
      pipeline = this.device.createComputePipeline({
        label: key,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [this.layout(kernel)] }),
        compute: { module, entryPoint, constants: kernel.constants(this.tuning) },
      });
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** A bind group of `buffers` in binding order (the order of `kernel.bindings`). */
  bindGroup(kernel: KernelDescriptor, buffers: readonly GPUBuffer[]): GPUBindGroup {
    const expected = kernel.bindings.length;
    if (buffers.length !== expected) {
      throw new Error(`${kernel.name}: ${buffers.length} buffers given, the kernel binds ${expected}`);
    }
    return this.device.createBindGroup({
      label: `${kernel.name} group`,
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
