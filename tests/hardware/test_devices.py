"""--device: auto/cpu/cuda/cuda:N/mps resolved to a real torch device, or one clear error."""

from __future__ import annotations

import pytest
import torch

from autotune.errors import DeviceError
from autotune.hardware.devices import cpu_model, resolve_device
from autotune.search.prepare import place, prepare
from autotune.spec.study import parse_spec
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
    with pytest.raises(
        DeviceError,
        match=rf"device {name}: no CUDA GPU is available here \(torch .*\); "
        r"use device cpu or auto",
    ):
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


def test_cpu_model_names_the_cpu_and_its_bf16_units(tmp_path):
    # benchmarks record it: machines of one kind differ between sessions (AMX on some, not on others)
    info = tmp_path / "cpuinfo"
    core = "processor\t: {n}\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx512f avx512_bf16 sse\n\n"
    info.write_text(core.format(n=0) + core.format(n=1))
    assert cpu_model(str(info)) == "AMD EPYC (avx512_bf16)"
    info.write_text("model name\t: Intel(R) Xeon(R) Platinum 8480+\nflags\t\t: avx512_bf16 amx_bf16 amx_tile\n")
    assert cpu_model(str(info)) == "Intel(R) Xeon(R) Platinum 8480+ (amx_bf16, amx_tile, avx512_bf16)"
    info.write_text("model name\t: Old CPU\nflags\t\t: sse avx2\n")
    assert cpu_model(str(info)) == "Old CPU (no bf16 units)"


def test_one_thread_unless_told_and_a_stored_two_thread_trial_replays_in_its_own(write_spec):
    import optuna

    from tests.conftest import invoke

    before = torch.get_num_threads()
    try:
        path = write_spec(tiny_digits_spec())
        assert invoke("run", "--study", path, "--trials", "2", "-q").exit_code == 0
        study = optuna.load_study(study_name="tiny-digits", storage="sqlite:///autotune.db")
        assert [t.user_attrs["threads"] for t in study.trials] == [1, 1]  # the default (devices.DEFAULT_THREADS)
        # a study stored with two threads (torch's choice on 2 cores, the default before) replays with two, exactly
        assert (
            invoke("run", "--study", path, "--study-name", "two", "--trials", "1", "--threads", "2", "-q").exit_code
            == 0
        )
        two = optuna.load_study(study_name="two", storage="sqlite:///autotune.db").trials[0]
        assert two.user_attrs["threads"] == 2
        torch.set_num_threads(1)
        result = invoke("replay", "--study", "two", "--trial", "0")
        assert result.exit_code == 0, result.output
        assert f"Reproduced exactly: val_accuracy {two.value!r} equals the stored value of trial 0." in result.stdout
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
