#!/usr/bin/python3
"""Labelled benchmark models for `npm run fidelity` (issue 11, item 1).

Trains two small Fashion-MNIST classifiers on CPU with Debian's torch and Debian's
dataset-fashion-mnist, with fixed seeds, and writes into data/fidelity/:

  cnn.onnx, vit.onnx          opset 13, input 'input' [N,1,28,28] float32 (dynamic N), output
                              'logits' [N,10]
  fmnist/calib/calib.npy      256 TRAIN images [256,1,28,28] float32, normalised as in training:
                              the only data the quantizer calibrates on
  fmnist/test/x.npy, y.npy    1000 TEST images (same normalisation) and their int64 labels:
                              scoring only, never calibration
  models.json                 normalisation, seeds, epochs, parameter counts and the float
                              test top-1 of each model (torch, on the 1000 images and on all 10000)

  apt-get install python3-torch dataset-fashion-mnist python3-numpy libopenblas0-pthread
  /usr/bin/python3 scripts/fidelity/train.py [cnn] [vit]   # ~7 min of CPU (12 min wall at load 8 on 2 cores)

The models:
  cnn  residual CNN: stem conv + BatchNorm, a residual basic block, a strided conv, a
       depthwise-separable residual block (3x3 depthwise + 1x1 pointwise, BatchNorm each), a
       strided conv, global average pool, linear head. BatchNorm is folded into the convolutions
       by the ONNX export in eval mode.
  vit  small transformer: 7x7 patch embedding (a stride-7 conv) -> 16 tokens of dim 64, learned
       position embedding, 2 pre-norm encoder layers (4 heads, MLP 128, GELU), mean-pool over
       tokens, LayerNorm, linear head. Attention is written with plain Linear/MatMul/Softmax so the
       export is a graph of MatMul layers the quantizer sees.
"""
import gzip
import json
import os
import sys
import time

# Debian's torch calls the reference BLAS through libblas.so.3 unless the alternative points at
# an optimised one; the transformer's Linear layers are ~7x faster on OpenBLAS
# (apt-get install libopenblas0-pthread). Use it for this process only, whatever the system's
# alternative says, by re-executing with its directory first on the library path.
OPENBLAS_DIR = '/usr/lib/x86_64-linux-gnu/openblas-pthread'
if os.path.isdir(OPENBLAS_DIR) and os.environ.get('FIDELITY_BLAS') is None:
    env = dict(os.environ, FIDELITY_BLAS=OPENBLAS_DIR, LD_LIBRARY_PATH=OPENBLAS_DIR + ':' + os.environ.get('LD_LIBRARY_PATH', ''))
    env.setdefault('OPENBLAS_NUM_THREADS', os.environ.get('FIDELITY_THREADS', '1'))
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATASET = '/usr/share/datasets/fashion-mnist'
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT = os.path.join(ROOT, 'data', 'fidelity')
# Fashion-MNIST pixel mean and standard deviation over the train split (of x/255).
MEAN, STD = 0.2860, 0.3530
SEED = 11
CALIB_COUNT = 256
TEST_COUNT = 1000


def read_idx(name):
    with gzip.open(os.path.join(DATASET, name), 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def normalise(images_u8):
    """uint8 [N,28,28] -> float32 [N,1,28,28], (x/255 - MEAN)/STD: the models' input."""
    return ((images_u8.astype(np.float32) / 255.0 - MEAN) / STD)[:, None, :, :].astype(np.float32)


class ConvBN(nn.Sequential):
    def __init__(self, cin, cout, k=3, stride=1, groups=1):
        super().__init__(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout))


class BasicBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = ConvBN(c, c)
        self.b = ConvBN(c, c)

    def forward(self, x):
        return F.relu(x + self.b(F.relu(self.a(x))))


class DepthwiseSeparableBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dw = ConvBN(c, c, 3, groups=c)
        self.pw = ConvBN(c, c, 1)

    def forward(self, x):
        return F.relu(x + self.pw(F.relu(self.dw(x))))


class ResidualCnn(nn.Module):
    """stem 3x3 conv (16 ch, 28x28) -> strided conv (32 ch, 14x14) -> residual basic block ->
    strided conv (64 ch, 7x7) -> depthwise-separable residual block -> global mean -> linear."""

    def __init__(self):
        super().__init__()
        self.stem = ConvBN(1, 16)
        self.down1 = ConvBN(16, 32, stride=2)  # 14x14
        self.block1 = BasicBlock(32)
        self.down2 = ConvBN(32, 64, stride=2)  # 7x7
        self.block2 = DepthwiseSeparableBlock(64)
        self.head = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.stem(x))
        x = F.relu(self.down1(x))
        x = self.block1(x)
        x = F.relu(self.down2(x))
        x = self.block2(x)
        return self.head(x.mean(dim=(2, 3)))


class EncoderLayer(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        n, t, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.norm1(x)).reshape(n, t, 3, h, d // h).permute(2, 0, 3, 1, 4)
        attn = torch.softmax(q @ k.transpose(-2, -1) * (d // h) ** -0.5, dim=-1)
        x = x + self.proj((attn @ v).transpose(1, 2).reshape(n, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class SmallVit(nn.Module):
    """7x7 patch embedding -> 16 tokens x 64, learned positions, 2 pre-norm encoder layers
    (4 heads, MLP 128, GELU), mean over tokens, LayerNorm, linear."""

    def __init__(self, dim=64, depth=2, heads=4, hidden=128):
        super().__init__()
        self.patch = nn.Conv2d(1, dim, 7, 7)  # 28x28 -> 4x4 = 16 tokens
        self.pos = nn.Parameter(torch.zeros(1, 16, dim))
        nn.init.normal_(self.pos, std=0.02)
        self.layers = nn.ModuleList([EncoderLayer(dim, heads, hidden) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2) + self.pos
        for layer in self.layers:
            x = layer(x)
        return self.head(self.norm(x.mean(dim=1)))


def accuracy(model, x, y, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x)


def train(name, model, x, y, epochs, lr, weight_decay):
    torch.manual_seed(SEED)
    g = torch.Generator().manual_seed(SEED)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * ((len(x) + 127) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    started = time.time()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=g)
        total = 0.0
        for i in range(0, len(x), 128):
            idx = order[i:i + 128]
            xb = x[idx]
            # Random horizontal flips: Fashion-MNIST items are left/right symmetric classes.
            flip = torch.rand(len(idx), generator=g) < 0.5
            xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
            loss = F.cross_entropy(model(xb), y[idx], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        print(f'{name} epoch {epoch + 1}/{epochs}: loss {total / len(x):.4f} ({time.time() - started:.0f} s)', flush=True)
    return time.time() - started


def export(model, path):
    model.eval()
    torch.onnx.export(
        model, torch.zeros(1, 1, 28, 28), path, opset_version=13, input_names=['input'], output_names=['logits'],
        dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}}, do_constant_folding=True,
    )


def main():
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    # One thread: on a shared 2-core machine, 2 OpenMP threads ran 2-7x slower than 1 (spin-waits).
    torch.set_num_threads(int(os.environ.get('FIDELITY_THREADS', '1')))
    epochs = {'cnn': int(os.environ.get('FIDELITY_CNN_EPOCHS', '3')), 'vit': int(os.environ.get('FIDELITY_VIT_EPOCHS', '8'))}

    train_x = normalise(read_idx('train-images-idx3-ubyte.gz'))
    train_y = read_idx('train-labels-idx1-ubyte.gz').astype(np.int64)
    test_x = normalise(read_idx('t10k-images-idx3-ubyte.gz'))
    test_y = read_idx('t10k-labels-idx1-ubyte.gz').astype(np.int64)

    rng = np.random.default_rng(SEED)
    calib_idx = np.sort(rng.choice(len(train_x), CALIB_COUNT, replace=False))
    test_idx = np.sort(rng.choice(len(test_x), TEST_COUNT, replace=False))
    for sub in ('fmnist/calib', 'fmnist/test'):
        os.makedirs(os.path.join(OUT, sub), exist_ok=True)
    np.save(os.path.join(OUT, 'fmnist/calib/calib.npy'), np.ascontiguousarray(train_x[calib_idx]))
    np.save(os.path.join(OUT, 'fmnist/test/x.npy'), np.ascontiguousarray(test_x[test_idx]))
    np.save(os.path.join(OUT, 'fmnist/test/y.npy'), test_y[test_idx])

    tx, ty = torch.from_numpy(train_x), torch.from_numpy(train_y)
    ex, ey = torch.from_numpy(test_x), torch.from_numpy(test_y)
    sx, sy = ex[torch.from_numpy(test_idx)], ey[torch.from_numpy(test_idx)]
    builders = {'cnn': (ResidualCnn, 3e-3, 1e-4), 'vit': (SmallVit, 2e-3, 5e-2)}
    only = sys.argv[1:] or list(builders)
    meta_path = os.path.join(OUT, 'models.json')
    meta = json.load(open(meta_path)) if os.path.exists(meta_path) else {}
    meta.update({
        'dataset': 'Debian dataset-fashion-mnist (' + DATASET + ')',
        'normalisation': {'mean': MEAN, 'std': STD, 'formula': '(pixel/255 - mean)/std', 'layout': 'NCHW [N,1,28,28] float32'},
        'seed': SEED,
        'calibration': {'file': 'fmnist/calib/calib.npy', 'split': 'train', 'count': CALIB_COUNT},
        'test': {'inputs': 'fmnist/test/x.npy', 'labels': 'fmnist/test/y.npy', 'split': 'test', 'count': TEST_COUNT},
        'torch': torch.__version__,
        'blas': os.environ.get('FIDELITY_BLAS', 'system libblas.so.3'),
    })
    meta.setdefault('models', {})
    for name in only:
        build, lr, wd = builders[name]
        torch.manual_seed(SEED)
        model = build()
        seconds = train(name, model, tx, ty, epochs[name], lr, wd)
        path = os.path.join(OUT, f'{name}.onnx')
        export(model, path)
        meta['models'][name] = {
            'file': f'{name}.onnx',
            'architecture': ' '.join((build.__doc__ or name).split()),
            'parameters': sum(p.numel() for p in model.parameters()),
            'epochs': epochs[name],
            'trainSeconds': round(seconds, 1),
            'floatTop1Torch': accuracy(model, sx, sy),
            'floatTop1TorchFull10k': accuracy(model, ex, ey),
            'onnxBytes': os.path.getsize(path),
        }
        print(name, json.dumps(meta['models'][name]), flush=True)
        # After each model, so a run cut short still describes what it exported.
        with open(meta_path, 'w') as f:
            json.dump(meta, f, indent=2)
            f.write('\n')


if __name__ == '__main__':
    main()
