"""Numeric precision of training: ``fp32``, ``bf16`` (autocast) or ``auto``, resolved per trial.

``bf16`` runs the forward pass and the loss under ``torch.autocast(..., dtype=torch.bfloat16)``; the
weights, their gradients and the optimiser state stay fp32. ``auto`` takes bf16 where the device has
it in hardware *and* the model is one where BENCHMARKS.md measured bf16 to pay (the rule is written
there, before its measurement); anywhere else it is fp32. Every trial records the precision it
used, and replays and exports train with the recorded one.
"""

from __future__ import annotations

import contextlib
import functools
from contextlib import AbstractContextManager as ContextManager
from typing import Any

from autotune.errors import DeviceError, OptionError

PRECISIONS = ("fp32", "bf16", "auto")
CHOICES = ", ".join(PRECISIONS)
#: How a CPU without bf16 in hardware is described to users.
NO_BF16_UNITS = "this CPU has no bf16 units (neither AVX-512 BF16 nor AMX)"

# The rule for ``auto``, applied to the measurements of 2026-12-02 (BENCHMARKS.md, "Mixed precision"). A loaded
# machine's run kept everything fp32; three quiet runs (an AVX-512 BF16 CPU without AMX) then passed, in each
# run, for the seed CNN (bf16/fp32 1.50-1.62; with channels-last 1.88-1.99) and for the MLP 1024-1024 at batch
# 64 and 256 (1.37-1.84), but not for the MLP 256-128 at batch 64 (0.96-0.99).
#: The built-in CNN pays in bf16 ...
CNN_PAYS = True
#: ... and an MLP pays when its widest hidden layer has at least this many units (None: never).
MLP_MIN_WIDTH: int | None = 1024
#: The built-in CNN in bf16 runs in channels-last memory format (bf16 + channels-last / bf16: 1.10 loaded, 1.23
#: in each quiet run; the rule's bar is 1.1); never in fp32, so fp32 trials stay as they were. Changing this
#: changes the numbers of bf16 CNN trials, so those stored before would no longer replay exactly.
CNN_CHANNELS_LAST = True


def check_name(name: Any) -> str:
    """``name`` if it is a precision, else an error that names it and the allowed ones."""
    if name not in PRECISIONS:
        raise OptionError(f"«precision» {name!r} is not a precision; allowed: {CHOICES}")
    return name


@functools.cache
def has_bf16(device: str) -> bool:
    """Whether ``device`` computes bf16 in hardware: an x86 CPU with AVX-512 BF16 or AMX, a CUDA GPU
    that torch says supports bf16 natively (Ampere or later). Apple's MPS: not supported here."""
    import torch

    kind = torch.device(device).type
    if kind == "cpu":
        cpu = getattr(torch, "cpu", None)  # torch's own CPUID reading; private, so asked defensively
        checks = [getattr(cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
        return any(bool(check()) for check in checks if check is not None)
    if kind == "cuda":
        try:
            return bool(torch.cuda.is_bf16_supported(including_emulation=False))
        except TypeError:  # an older torch without the keyword
            return bool(torch.cuda.is_bf16_supported())
    return False


def check_device(name: str, device: str) -> None:
    """An explicit ``bf16`` on a device without bf16 hardware is an error (``auto`` falls back to fp32)."""
    check_name(name)
    if name == "bf16" and not has_bf16(device):
        where = (
            "this CPU has neither AVX-512 BF16 nor AMX" if device == "cpu" else f"device {device} has no native bf16"
        )
        raise DeviceError(
            f"precision 'bf16': {where}; use precision fp32, or auto (bf16 only where it is supported and pays)"
        )


def pays(family: str, config: dict[str, Any]) -> bool:
    """Whether the benchmarked rule says bf16 pays for this model (see the module constants)."""
    if family == "cnn":
        return CNN_PAYS
    if family == "mlp":
        widest = max(config.get("units") or [0])
        return MLP_MIN_WIDTH is not None and widest >= MLP_MIN_WIDTH
    return False  # a user's model: not measured


def resolve(name: str, *, device: str, family: str, config: dict[str, Any]) -> str:
    """``fp32`` or ``bf16``: what a trial of ``config`` trains in on ``device`` when ``name`` is asked for."""
    check_device(name, device)
    if name == "auto":
        return "bf16" if has_bf16(device) and pays(family, config) else "fp32"
    return name


def recorded(attrs: dict[str, Any]) -> str:
    """The precision a stored trial trained in: its ``precision`` attribute; fp32 for trials stored before
    there was one."""
    value = attrs.get("precision", "fp32")
    return value if value in ("fp32", "bf16") else "fp32"


def emulation_note(used: str, what: str, device: str = "cpu") -> str | None:
    """What to tell a user who replays or exports, on ``device``, a trial (``what``) recorded in bf16 where the
    device has no bf16 units: torch emulates it there, slowly, and the kernels are not those it ran with.
    None when there is nothing to say."""
    if used != "bf16" or has_bf16(device):
        return None
    return (
        f"{what} trained in bf16, and {NO_BF16_UNITS}: torch emulates bf16 in software here, many times slower "
        "than fp32 (13x for the seed CNN on an AVX2-only CPU), and its numbers may differ from the recorded ones"
    )


def autocast(device: Any, precision: str) -> ContextManager[Any]:
    """The context that forward passes run in: nothing for fp32, bf16 autocast on ``device``'s type."""
    if precision == "fp32":
        return contextlib.nullcontext()
    import torch

    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)


def channels_last(family: str, precision: str) -> bool:
    """Whether the model and its batches use channels-last memory format."""
    return CNN_CHANNELS_LAST and family == "cnn" and precision == "bf16"
