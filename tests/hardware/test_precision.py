"""Precision: the names allowed, the rule behind ``auto``, the error for bf16 without bf16 hardware."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from autotune.errors import DeviceError, OptionError
from autotune.hardware import precision

#: The /proc/cpuinfo flags of the bf16 units ``has_bf16`` looks for: AVX-512 BF16, or AMX (its tiles, its bf16).
BF16_FLAGS = {"avx512_bf16", "amx_tile", "amx_bf16"}


def cpu_flags_say_bf16() -> bool:
    """Whether this CPU has bf16 units, read from the kernel's /proc/cpuinfo flags, not from torch: the expected
    value for ``has_bf16("cpu")``, here and in tests/test_benchmarks.py. Only x86 CPUs count (``has_bf16``'s
    docstring); on an x86 CPU the flags lines must be there, so a misread file fails instead of saying False."""
    if platform.machine().lower() not in ("x86_64", "amd64", "i686", "i386"):
        return False
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        pytest.skip("no /proc/cpuinfo to read the CPU's flags from")
    flags = [
        set(line.split(":", 1)[1].split())
        for line in cpuinfo.read_text().splitlines()
        if line.split(":", 1)[0].strip() == "flags"
    ]
    assert flags, "no 'flags' line in /proc/cpuinfo on an x86 CPU"
    return all(core & BF16_FLAGS for core in flags)


def test_has_bf16_agrees_with_the_cpu_flags():
    """The hardware check (torch's CPUID reading) says what the kernel's CPU flags say, on this machine."""
    expected = cpu_flags_say_bf16()
    precision.has_bf16.cache_clear()
    assert precision.has_bf16("cpu") is expected, f"/proc/cpuinfo's flags say bf16 units: {expected}"


def test_fp32_and_bf16_are_taken_as_asked(bf16_here):
    bf16_here(True)
    for family, config in (("mlp", {"units": [16]}), ("cnn", {"channels": [8]}), ("my.py:build", {})):
        assert precision.resolve("fp32", device="cpu", family=family, config=config) == "fp32"
        assert precision.resolve("bf16", device="cpu", family=family, config=config) == "bf16"


def test_auto_follows_the_benchmarked_rule(bf16_here, monkeypatch):
    bf16_here(True)
    monkeypatch.setattr(precision, "MLP_MIN_WIDTH", 1024)
    monkeypatch.setattr(precision, "CNN_PAYS", True)

    def auto(family, config):
        return precision.resolve("auto", device="cpu", family=family, config=config)

    assert auto("mlp", {"units": [256, 128]}) == "fp32"
    assert auto("mlp", {"units": [1023, 1023]}) == "fp32"
    assert auto("mlp", {"units": [64, 1024, 32]}) == "bf16"  # the widest hidden layer decides
    assert auto("cnn", {"channels": [32, 64]}) == "bf16"
    assert auto("pkg.models:build", {"units": [4096]}) == "fp32"  # a user's model is never measured
    monkeypatch.setattr(precision, "MLP_MIN_WIDTH", None)
    monkeypatch.setattr(precision, "CNN_PAYS", False)
    assert auto("mlp", {"units": [8192]}) == "fp32" and auto("cnn", {"channels": [32, 64]}) == "fp32"


def test_auto_is_fp32_on_a_device_without_bf16(bf16_here, monkeypatch):
    bf16_here(False)
    monkeypatch.setattr(precision, "MLP_MIN_WIDTH", 16)
    monkeypatch.setattr(precision, "CNN_PAYS", True)
    assert precision.resolve("auto", device="cpu", family="mlp", config={"units": [4096]}) == "fp32"
    assert precision.resolve("auto", device="cpu", family="cnn", config={"channels": [32]}) == "fp32"


def test_bf16_without_bf16_hardware_is_an_error(bf16_here):
    bf16_here(False)
    with pytest.raises(DeviceError) as err:
        precision.resolve("bf16", device="cpu", family="mlp", config={"units": [16]})
    assert str(err.value) == (
        "precision 'bf16': this CPU has neither AVX-512 BF16 nor AMX; use precision fp32, or "
        "auto (bf16 only where it is supported and pays)"
    )
    precision.check_device("fp32", "cpu")
    precision.check_device("auto", "cpu")


def test_an_unknown_precision_names_the_allowed_ones():
    with pytest.raises(OptionError) as err:
        precision.check_name("fp16")
    assert str(err.value) == "precision 'fp16' is not a precision; allowed: fp32, bf16, auto"


def test_a_trial_without_a_recorded_precision_trained_in_fp32():
    assert precision.recorded({}) == "fp32"
    assert precision.recorded({"precision": "bf16"}) == "bf16"
    assert precision.recorded({"precision": "fp32"}) == "fp32"


def test_autocast_only_for_bf16():
    import torch

    model = torch.nn.Linear(4, 2)
    x = torch.randn(3, 4)
    with precision.autocast("cpu", "fp32"):
        assert model(x).dtype == torch.float32
    with precision.autocast("cpu", "bf16"):
        assert model(x).dtype == torch.bfloat16
    assert model.weight.dtype == torch.float32


def test_channels_last_only_for_the_cnn_in_bf16(monkeypatch):
    monkeypatch.setattr(precision, "CNN_CHANNELS_LAST", True)
    assert precision.channels_last("cnn", "bf16")
    assert not precision.channels_last("cnn", "fp32") and not precision.channels_last("mlp", "bf16")
    monkeypatch.setattr(precision, "CNN_CHANNELS_LAST", False)
    assert not precision.channels_last("cnn", "bf16")


def test_a_bf16_trial_on_a_cpu_without_bf16_units_gets_a_note(bf16_here):
    bf16_here(False)
    assert precision.emulation_note("bf16", "trial 3") == (
        "trial 3 trained in bf16, and this CPU has no bf16 units (neither AVX-512 BF16 nor AMX): torch emulates bf16 "
        "in software here, many times slower than fp32 (13x for the seed CNN on an AVX2-only CPU), and its numbers "
        "may differ from the recorded ones"
    )
    assert precision.emulation_note("fp32", "trial 3") is None
    bf16_here(True)
    assert precision.emulation_note("bf16", "trial 3") is None
