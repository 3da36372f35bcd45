"""What a temporal design costs to train (chapter 07's cost table): the memory of one step."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def training_step_memory(model: nn.Module, step: Callable[[], torch.Tensor], device: str = "cpu") -> dict[str, float]:
    """Memory of one training step, in MiB.

    On CUDA: torch.cuda.max_memory_allocated over a forward and backward pass (peak, everything).
    On the CPU PyTorch keeps no allocator statistics, so it is counted: the activations autograd
    saves for the backward pass (caught with saved_tensors_hooks, each storage once) plus the
    weights, their gradients and Adam's two moments (4 x the parameter bytes)."""
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    model.zero_grad(set_to_none=True)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        step().backward()
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
        model.zero_grad(set_to_none=True)
        return {"activations MiB": float("nan"), "peak MiB": (peak + 3 * params) / 2**20}
    seen: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = step()
    loss.backward()
    model.zero_grad(set_to_none=True)
    activations = sum(seen.values())
    return {"activations MiB": activations / 2**20, "peak MiB": (activations + 4 * params) / 2**20}
