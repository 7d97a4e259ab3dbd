"""GPUs dealt to local workers (autotune.hardware.gpus): round robin, packed with --trials-per-gpu, and the refusals.

No GPU is needed: the assignment is pure, and the worker environment is checked as built. (Whether a
worker then trains on the GPU it was given needs a GPU machine; see BENCHMARKS.md for when one was lent.)
"""

from __future__ import annotations

import pytest

from autotune.errors import OptionError
from autotune.execution.workers import worker_env
from autotune.hardware import gpus
from tests.conftest import assert_one_error_line, invoke, tiny_digits_spec


def test_round_robin_gives_each_worker_the_next_gpu():
    assert gpus.assign(5, ["0", "1", "2"]) == ["0", "1", "2", "0", "1"]
    assert gpus.assign(2, ["0"]) == ["0", "0"]  # one GPU: the workers share it, as before


def test_trials_per_gpu_packs_workers_before_the_next_gpu():
    assert gpus.assign(4, ["0", "1"], per_gpu=2) == ["0", "0", "1", "1"]
    assert gpus.assign(3, ["0", "1"], per_gpu=2) == ["0", "0", "1"]
    with pytest.raises(OptionError, match=r"workers 5 with trials_per_gpu 2 needs 3 GPU\(s\); 2 visible \(0,1\)"):
        gpus.assign(5, ["0", "1"], per_gpu=2)
    with pytest.raises(OptionError, match="no CUDA GPU is visible"):
        gpus.assign(2, [], per_gpu=1)


def test_the_gpus_dealt_are_those_cuda_visible_devices_names():
    assert gpus.visible(4, env="") == ["0", "1", "2", "3"]
    assert gpus.visible(2, env="5,7") == ["5", "7"]  # torch counts 2: the two the user left visible
    assert gpus.assign(3, gpus.visible(2, env="5,7")) == ["5", "7", "5"]


def test_each_worker_process_sees_only_its_gpu():
    env = {"PATH": "/bin", "CUDA_VISIBLE_DEVICES": "5,7"}
    assert [worker_env(env, ["5", "7"], i)["CUDA_VISIBLE_DEVICES"] for i in (0, 1)] == ["5", "7"]
    assert worker_env(env, None, 1) is env  # on the CPU nothing changes


def test_trials_per_gpu_on_the_cpu_is_one_error_line(write_spec, tmp_path):
    spec = write_spec(tiny_digits_spec())
    result = invoke("run", "--study", spec, "--workers", "2", "--trials-per-gpu", "2", "--device", "cpu")
    assert_one_error_line(result, "--trials-per-gpu 2: the device is cpu; it needs CUDA GPUs")
    assert not (tmp_path / "autotune.db").exists()
