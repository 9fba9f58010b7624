# The learning rates tests/train/lr_schedule_test.cpp expects, from PyTorch's schedulers:
# the rate of the update after k calls of scheduler.step() (SGD, lr 0.1). Documentation only;
# nothing runs it. With torch 1.13:  python3 tests/train/lr_schedule_reference.py
import math

import torch
from torch.optim import lr_scheduler as S


def rates(make, steps, base=0.1):
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=base)
    scheduler = make(optimizer)
    out = {}
    for k in range(max(steps) + 1):
        if k in steps:
            out[k] = optimizer.param_groups[0]["lr"]
        optimizer.step()
        scheduler.step()
    return out


def show(name, values):
    print(name, ", ".join(f"{{{k}, {v!r}}}" for k, v in values.items()))


show("step", rates(lambda o: S.StepLR(o, step_size=3, gamma=0.5), [0, 2, 3, 5, 6, 10]))
show("multistep", rates(lambda o: S.MultiStepLR(o, milestones=[2, 5, 9]), [0, 1, 2, 4, 5, 8, 9, 20]))
show("exponential", rates(lambda o: S.ExponentialLR(o, gamma=0.9), [0, 1, 5, 20]))
show("cosine", rates(lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001), [0, 1, 3, 5, 9, 10]))
show("linear", rates(lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4), [0, 1, 2, 3, 4, 6]))
show("linear_default", rates(lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=10), [0, 1, 5, 9]))
show("pix2pix", rates(lambda o: S.LambdaLR(o, lambda k: 1 - max(0, k - 5) / 5), [0, 4, 5, 6, 9]))
show("onecycle", rates(lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=20), [0, 1, 3, 5, 6, 10, 19]))
show("onecycle_linear",
     rates(lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=20, anneal_strategy="linear"), [0, 3, 5, 12, 19]))
show("onecycle_three",
     rates(lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=20, pct_start=0.25, three_phase=True, div_factor=10,
                                  final_div_factor=100), [0, 2, 4, 6, 8, 12, 19]))
show("cosine_warmup",
     rates(lambda o: S.LambdaLR(o, lambda k: (0.01 + 0.99 * (1 + math.cos(math.pi * k / 10)) / 2) *
                                (0.2 + 0.8 * min(k, 4) / 4)), [0, 1, 2, 3, 4, 5]))
