"""--device: auto/cpu/cuda/cuda:N/mps resolved to a real torch device, or one clear error."""

from __future__ import annotations

import pytest
import torch

from autotune.devices import resolve_device
from autotune.errors import DeviceError
from autotune.prepare import place, prepare
from autotune.spec import parse_spec
from tests.conftest import tiny_digits_spec

HAS_CUDA = torch.cuda.is_available()


def test_cpu_and_auto():
    assert resolve_device(None) == "cpu" and resolve_device("cpu") == "cpu" and resolve_device(" CPU ") == "cpu"
    mps = getattr(torch.backends, "mps", None)
    expected = "cuda:0" if HAS_CUDA else "mps" if mps is not None and mps.is_available() else "cpu"
    assert resolve_device("auto") == expected


@pytest.mark.parametrize("name", ["tpu", "cuda:", "cuda:x", "gpu", "", "cuda:0:1"])
def test_names_that_are_not_devices(name):
    with pytest.raises(DeviceError, match=r"is not a device; allowed: auto, cpu, cuda, cuda:N, mps"):
        resolve_device(name)


@pytest.mark.skipif(HAS_CUDA, reason="this machine has a CUDA GPU")
@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_without_a_gpu_is_an_error_not_a_silent_cpu_run(name):
    with pytest.raises(DeviceError, match=rf"--device {name}: no CUDA GPU is available here \(torch .*\); "
                                          r"use --device cpu or auto"):
        resolve_device(name)


@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA GPU")
def test_cuda_index_out_of_range_and_data_on_the_gpu():
    count = torch.cuda.device_count()
    with pytest.raises(DeviceError, match=rf"this machine has {count} CUDA device"):
        resolve_device(f"cuda:{count}")
    splits = prepare(parse_spec(tiny_digits_spec()), device="cuda")
    assert splits.train.x.device.type == "cuda" and splits.val.y.device.type == "cuda"


def test_on_the_cpu_the_data_stay_where_they_are():
    splits = prepare(parse_spec(tiny_digits_spec()), device="cpu")
    assert place(splits, "cpu") is splits and splits.train.x.device.type == "cpu"
