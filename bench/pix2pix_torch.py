#!/usr/bin/env python3
"""kiln's pix2pix step in plain PyTorch (2.x), the baseline of kiln_bench_gpu (README.md, "GPU").

The same networks and recipe as kiln's pix2pix plugin (plugins/pix2pix) with the losses of
experiments/pix2pix.toml (plugins/losses):
  - U-Net generator as the authors' unet_256: log2(size) levels, 4x4 stride-2 convolutions
    without bias, BatchNorm except on the outermost and innermost down sides, ReLU then a
    transposed convolution (bias on the outermost only) then BatchNorm (tanh outermost) on the
    up sides, dropout 0.5 on the ngf*8 up blocks between the bottleneck and level 4, skips by
    concatenation;
  - 70x70 PatchGAN as the authors' basic n_layers = 3 discriminator of (input, image) pairs;
  - weights from N(0, 0.02), BatchNorm weights from N(1, 0.02), biases 0;
  - each step: the discriminator's phase (BCE with logits of D(input, target) against 1 plus
    D(input, G(input) detached) against 0), then the generator's (BCE of D(input, G(input))
    against 1, plus 100 x L1 to the target), G(input) computed once for both; each phase's
    gradients for its own network only; Adam lr 2e-4, betas (0.5, 0.999), foreach on CUDA
    (PyTorch's default there); then the EMA of the generator's parameters, decay 0.99, with
    torch._foreach_lerp_, and a copy of the buffers, as kiln's EMA hook keeps them;
  - the losses read back every --log-every steps, as kiln writes its summaries.
Data: one random batch of the right shape, made on the device before timing. tf32 turns on
TensorFloat-32 for matmuls and convolutions; bf16 and fp16 autocast the forward passes and
losses (fp16 with a gradient scaler per phase). cuDNN's autotuner is on, as in kiln.

Prints one machine-readable line on stdout, `ms_per_step=<x>` (the timed steps, between two
torch.cuda.synchronize()), and a line for people on stderr. Runs on the CPU too (--device cpu),
for a smoke test.
"""

import argparse
import contextlib
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def level_channels(ngf, level):
    """Channels after level `level`'s down-convolution: ngf, 2ngf, 4ngf, then 8ngf."""
    return ngf * min(2 ** min(level, 3), 8)


class UnetGenerator(nn.Module):
    def __init__(self, num_downs, input_channels=3, output_channels=3, ngf=64, dropout=0.5):
        super().__init__()
        self.down = nn.ModuleList()
        self.up = nn.ModuleList()
        for i in range(num_downs):
            outermost = i == 0
            innermost = i == num_downs - 1
            outer = input_channels if outermost else level_channels(ngf, i - 1)
            inner = level_channels(ngf, i)
            down = []
            if not outermost:
                down.append(nn.LeakyReLU(0.2))
            down.append(nn.Conv2d(outer, inner, 4, stride=2, padding=1, bias=False))
            if not outermost and not innermost:
                down.append(nn.BatchNorm2d(inner))
            self.down.append(nn.Sequential(*down))

            up_in = inner if innermost else 2 * inner
            up_out = output_channels if outermost else outer
            up = [nn.ReLU(inplace=True),
                  nn.ConvTranspose2d(up_in, up_out, 4, stride=2, padding=1, bias=outermost)]
            up.append(nn.Tanh() if outermost else nn.BatchNorm2d(up_out))
            if i >= 4 and not innermost and dropout > 0:
                up.append(nn.Dropout(dropout))
            self.up.append(nn.Sequential(*up))

    def forward(self, x):
        skips = []
        h = x
        for down in self.down:
            skips.append(h)
            h = down(h)
        for i in reversed(range(len(self.up))):
            h = self.up[i](h)
            if i > 0:
                h = torch.cat([skips[i], h], dim=1)
        return h


class PatchDiscriminator(nn.Module):
    def __init__(self, input_channels=6, ndf=64, n_layers=3):
        super().__init__()

        def mult(n):
            return 2 ** min(n, 3)

        layers = [nn.Conv2d(input_channels, ndf, 4, stride=2, padding=1, bias=True), nn.LeakyReLU(0.2, inplace=True)]
        for n in range(1, n_layers):
            layers += [nn.Conv2d(ndf * mult(n - 1), ndf * mult(n), 4, stride=2, padding=1, bias=False),
                       nn.BatchNorm2d(ndf * mult(n)), nn.LeakyReLU(0.2, inplace=True)]
        last = ndf * mult(n_layers)
        layers += [nn.Conv2d(ndf * mult(n_layers - 1), last, 4, stride=1, padding=1, bias=False),
                   nn.BatchNorm2d(last), nn.LeakyReLU(0.2, inplace=True),
                   nn.Conv2d(last, 1, 4, stride=1, padding=1, bias=True)]
        self.net = nn.Sequential(*layers)

    def forward(self, condition, image):
        return self.net(torch.cat([condition, image], dim=1))


@torch.no_grad()
def init_weights(module, gain=0.02):
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            m.weight.normal_(0.0, gain)
            if m.bias is not None:
                m.bias.zero_()
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.normal_(1.0, gain)
            m.bias.zero_()


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--size", type=int, default=256, help="image side, a power of 2")
    parser.add_argument("--ngf", type=int, default=64)
    parser.add_argument("--ndf", type=int, default=None, help="default: --ngf")
    parser.add_argument("--precision", choices=["fp32", "tf32", "bf16", "fp16"], default="tf32")
    parser.add_argument("--steps", type=int, default=100, help="timed steps")
    parser.add_argument("--warmup", type=int, default=20, help="steps before the timed ones")
    parser.add_argument("--log-every", type=int, default=10,
                        help="read the losses back every N steps, as kiln's summaries (0: never)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cuda-graph", action="store_true",
                        help="capture the whole step (both phases and the EMA) as one CUDA graph after the "
                             "warm-up (on a side stream) and replay it; Adam capturable; CUDA, not fp16")
    args = parser.parse_args(argv)
    if args.cuda_graph and (not args.device.startswith("cuda") or args.precision == "fp16"):
        parser.error("--cuda-graph needs a CUDA device and a precision other than fp16")
    if args.size < 4 or args.size & (args.size - 1):
        parser.error(f"--size must be a power of 2 and at least 4, got {args.size}")
    if args.ndf is None:
        args.ndf = args.ngf
    return args


def main(argv):
    args = parse_args(argv)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    torch.manual_seed(args.seed)
    if cuda:
        tf32 = args.precision != "fp32"
        cudnn = torch.backends.cudnn
        if hasattr(torch.backends.cuda.matmul, "fp32_precision") and hasattr(getattr(cudnn, "conv", None),
                                                                            "fp32_precision"):
            # PyTorch 2.9 and later: the new switches only, all alike (mixing them with
            # allow_tf32, or conv and rnn set apart, is an error where cuDNN asks without an op).
            precision = "tf32" if tf32 else "ieee"
            torch.backends.cuda.matmul.fp32_precision = precision
            for backend in (cudnn, cudnn.conv, getattr(cudnn, "rnn", None)):
                if hasattr(backend, "fp32_precision"):
                    backend.fp32_precision = precision
        else:
            torch.backends.cuda.matmul.allow_tf32 = tf32
            torch.backends.cudnn.allow_tf32 = tf32
        torch.backends.cudnn.benchmark = True
    elif args.precision == "fp16":
        sys.exit("fp16 needs CUDA")
    autocast_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.precision)

    def autocast():
        if autocast_dtype is None:
            return contextlib.nullcontext()
        # A captured step must not use casts cached outside the capture.
        return torch.autocast(device_type=device.type, dtype=autocast_dtype, cache_enabled=not args.cuda_graph)

    generator = UnetGenerator(int(math.log2(args.size)), ngf=args.ngf)
    discriminator = PatchDiscriminator(ndf=args.ndf)
    init_weights(generator)
    init_weights(discriminator)
    generator.to(device).train()
    discriminator.to(device).train()
    g_params = list(generator.parameters())
    d_params = list(discriminator.parameters())
    opt_d = torch.optim.Adam(d_params, lr=2e-4, betas=(0.5, 0.999), foreach=cuda, capturable=args.cuda_graph)
    opt_g = torch.optim.Adam(g_params, lr=2e-4, betas=(0.5, 0.999), foreach=cuda, capturable=args.cuda_graph)
    scaler_d = scaler_g = None
    if args.precision == "fp16":
        scaler_d = torch.amp.GradScaler("cuda")
        scaler_g = torch.amp.GradScaler("cuda")

    decay = 0.99
    ema_params = [p.detach().clone() for p in g_params]
    buffers = list(generator.buffers()) + list(discriminator.buffers())
    ema_buffers = [b.detach().clone() for b in buffers]

    shape = (args.batch, 3, args.size, args.size)
    inputs = torch.rand(shape, device=device) * 2 - 1
    target = torch.rand(shape, device=device) * 2 - 1

    def bce(logits, label):
        return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label))

    def update(loss, params, optimizer, scaler):
        optimizer.zero_grad(set_to_none=True)
        if scaler is None:
            loss.backward(inputs=params)
            optimizer.step()
        else:
            scaler.scale(loss).backward(inputs=params)
            scaler.step(optimizer)
            scaler.update()

    def work():
        # The discriminator's phase; G(input) is computed once, for both phases.
        with autocast():
            fake = generator(inputs)
            d_real = bce(discriminator(inputs, target), 1.0)
            d_fake = bce(discriminator(inputs, fake.detach()), 0.0)
            loss_d = d_real + d_fake
        update(loss_d, d_params, opt_d, scaler_d)
        # The generator's phase, after it, through the updated discriminator.
        with autocast():
            g_gan = bce(discriminator(inputs, fake), 1.0)
            l1 = F.l1_loss(fake, target)
            loss_g = g_gan + 100.0 * l1
        update(loss_g, g_params, opt_g, scaler_g)
        # The EMA of the generator's weights; the buffers are copied.
        with torch.no_grad():
            if hasattr(torch, "_foreach_lerp_"):
                torch._foreach_lerp_(ema_params, g_params, 1.0 - decay)
            else:
                for shadow, p in zip(ema_params, g_params):
                    shadow.lerp_(p, 1.0 - decay)
            if hasattr(torch, "_foreach_copy_"):
                torch._foreach_copy_(ema_buffers, buffers)
            else:
                for shadow, b in zip(ema_buffers, buffers):
                    shadow.copy_(b)
        return d_real, d_fake, g_gan, l1

    def step(k):
        values = work()
        if args.log_every > 0 and k % args.log_every == 0:
            return [v.item() for v in values]
        return None

    def synchronize():
        if cuda:
            torch.cuda.synchronize(device)

    if args.cuda_graph:
        # As torch.cuda.graphs' docs do it: warm up on a side stream, capture, then replay the
        # graph as the step (the data is already the graph's static input).
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):
            for k in range(max(args.warmup, 3)):
                work()
        torch.cuda.current_stream(device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_values = work()

        def step(k):
            graph.replay()
            if args.log_every > 0 and k % args.log_every == 0:
                return [v.item() for v in static_values]
            return None
    else:
        for k in range(args.warmup):
            step(k)
    synchronize()
    start = time.perf_counter()
    losses = None
    for k in range(args.warmup, args.warmup + args.steps):
        losses = step(k) or losses
    synchronize()
    ms = (time.perf_counter() - start) * 1000.0 / args.steps

    print(f"ms_per_step={ms:.4f}", flush=True)
    shown = "" if losses is None else " losses d_real %.3f d_fake %.3f g_gan %.3f l1 %.3f" % tuple(losses)
    print(f"pix2pix_torch: torch {torch.__version__} on {device}, {args.precision}, batch {args.batch}, "
          f"{'one CUDA graph, ' if args.cuda_graph else ''}"
          f"{args.size}x{args.size}, ngf {args.ngf}, ndf {args.ndf}: {ms:.2f} ms/step, "
          f"{1000.0 * args.batch / ms:.1f} images/s over {args.steps} steps after {args.warmup}{shown}",
          file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
