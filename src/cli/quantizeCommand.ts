/** Registers `comq quantize` and its flags on the commander program (src/cli/main.ts). */
import type { Command } from 'commander';
import { runQuantize } from './quantize.ts';
import type { QuantizeFlags } from './quantizeOptions.ts';

export function registerQuantize(
  program: Command,
  io: { stdout: (text: string) => void; stderr: (text: string) => void },
): void {
  program
    .command('quantize')
    .description(
      'Quantize the weights of MODEL.onnx on calibration images or tensors, evaluate against the float model, write OUT.onnx and a JSON report.',
    )
    .argument('<model>', 'the .onnx model file')
    .option(
      '--data <files...>',
      'external-data files the model refers to (tensors stored outside the .onnx file)',
    )
    .option('--images <dir>', 'calibration images (a folder; or one sub-folder per class)')
    .option(
      '--inputs <dir>',
      'calibration tensors: a folder of .npy files (one sample or a batch each); for several model inputs, a folder of .npz files (one per sample, arrays named by input, as numpy.savez writes them) or one sub-folder per input name holding one .npy per sample (same file names)',
    )
    .option(
      '--const <name=value...>',
      'model inputs fed the same number in every sample, e.g. --const sr=16000 (a sample rate) or state=0',
    )
    .option(
      '--out <file>',
      'where to write the quantized model, verified in onnxruntime before it is written',
    )
    .option(
      '--format <kind>',
      'qdq (integer weights + DequantizeLinear), fake-quant (float model with the dequantized weights) or matmulnbits (4-bit MatMul as com.microsoft MatMulNBits, the rest qdq)',
      'qdq',
    )
    .option('--report <file>', 'where to write the JSON report (layers, timings, evaluation)')
    .option('--bits <n>', 'weight bits: 2, 3, 4, 5, 6 or 8', '4')
    .option('--method <name>', 'rtn, comq, gptq, gptq+comq, adaround or brecq', 'comq')
    .option('--adaround-iters <n>', 'AdaRound: Adam iterations per layer (default 500)')
    .option('--brecq-iters <n>', 'BRECQ: Adam iterations per block at most (default 300)')
    .option('--brecq-seconds <s>', 'BRECQ: time budget of the block stage in seconds (default 120)')
    .option(
      '--min-sqnr <dB>',
      'fail (exit 2, nothing written) when the model output SQNR on the evaluation inputs is below this',
    )
    .option('--sweeps <n>', 'COMQ sweeps over all coordinates', '1')
    .option(
      '--order <name>',
      'COMQ coordinate order: shared (default; one order for all rows, blocked), greedy (per row) or cyclic',
    )
    .option('--eval-images <dir>', 'held-out evaluation images (default: a seeded quarter of --images)')
    .option('--eval-inputs <dir>', 'held-out evaluation .npy tensors (default: a seeded quarter of --inputs)')
    .option(
      '--labels <file>',
      'class labels of the evaluation images: name<TAB>class lines, or one index per line',
    )
    .option(
      '--preset <name>',
      'image preprocessing: imagenet, half, raw01, ppocr-det, ppocr-rec, ppocr-cls (default: guessed)',
    )
    .option('--size <HxW>', 'input height × width for symbolic image dims, e.g. 640x640')
    .option(
      '--mean <values>',
      "per-channel mean after --scale, one value or three ('0.485,0.456,0.406'); overrides the preset",
    )
    .option(
      '--std <values>',
      "per-channel std after --scale, one value or three ('0.229,0.224,0.225'); overrides the preset",
    )
    .option(
      '--scale <s>',
      "multiplies 0–255 pixel values first: '1/255' or 'none' (keep 0–255); overrides the preset",
    )
    .option('--channel-order <order>', 'RGB or BGR channel order of the tensor; overrides the preset')
    .option('--color <mode>', "keep (the model's channel count), gray or rgb")
    .option('--layout <layout>', "NCHW or NHWC (default: from the model's input shape)")
    .option(
      '--resize <mode>',
      'stretch, crop[:FRACTION] (shorter side + centre crop, torchvision), pad[:VALUE] or pad-center[:VALUE] (keep aspect, pad with a 0–255 pixel value)',
    )
    .option(
      '--preprocess-from <report.json>',
      "repeat a run's preprocessing exactly: the preset, size and every value recorded in that report",
    )
    .option(
      '--calib-crops-from <det.onnx>',
      "calibrate and evaluate on the text-line crops this float text detector (PP-OCR det) cuts from --images / --eval-images, each fitted with the model's own preset (for the PP-OCR recogniser and classifier)",
    )
    .option('--calib <n>', 'use at most this many calibration samples')
    .option('--eval <n>', 'use at most this many evaluation samples')
    .option('--no-eval', 'skip the float-vs-quantized evaluation')
    .option('--mode <mode>', 'float (every layer sees float activations) or sequential', 'float')
    .option('--keep <layers...>', 'layer names to keep in float')
    .option('--grid <kind>', 'asymmetric (per-channel min-max) or symmetric', 'asymmetric')
    .option('--group-size <g>', 'inputs per scale block (blocked grid); default one scale per output channel')
    .option(
      '--clip <c>',
      'clipping factor in (0, 1] applied to the grid (0.65 is the published 2-bit setting)',
    )
    .option('--scale-step', 'alternate COMQ code sweeps with the closed-form scale update')
    .option(
      '--first-last-bits <b>',
      "bits for the first and last layer, or 'none' for the same as --bits",
      '8',
    )
    .option(
      '--size-budget <f>',
      'mixed precision: choose bits per layer (2, 3, 4, 8 or float) so the written file is at most f × the float file, e.g. 0.2',
    )
    .option(
      '--sensitivity <kind>',
      "with --size-budget: how layers are ranked: forward (output change with only that layer rounded; default) or gram (the layer's own Gram objective)",
    )
    .option(
      '--sensitivity-samples <n>',
      'with --size-budget: calibration samples for the sensitivity pass (default 8)',
    )
    .option('--row-sample <r>', 'fraction of Gram rows kept (seeded), in (0, 1]')
    .option(
      '--max-gram-rows <k>',
      'cap on Gram rows per layer, as K times its reduction size m (seeded subsampling); 0 = no cap (default 256)',
    )
    .option(
      '--memory-budget <size>',
      'memory the run plans for, e.g. 3G or 1500M (default 2G: a browser tab); refused before any work when the model cannot fit',
    )
    .option('--seed <s>', 'seed for row sampling and the calibration/evaluation split', '0')
    .option('--backend <name>', 'auto, cpu or webgpu', 'auto')
    .option(
      '--no-progress',
      'plain progress lines even on a terminal (they are plain whenever stderr is not a terminal)',
    )
    .option(
      '-q, --quiet',
      'no progress on stderr: only errors, and the final summary (layer table, output paths) on stdout',
    )
    .action(async (modelPath: string, flags: QuantizeFlags) => {
      await runQuantize(modelPath, flags, io);
    });
}
