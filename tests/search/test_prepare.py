"""What every training command checks before it writes anything: data, model and data together."""

from __future__ import annotations

import pytest

from autotune.errors import DataError, ModelError
from autotune.search.prepare import check_model, prepare
from autotune.spec.study import parse_spec
from tests.conftest import tiny_digits_spec


def test_prepare_loads_the_specs_splits_on_the_cpu():
    spec = parse_spec(tiny_digits_spec(train_subset=200))
    splits = prepare(spec, device="cpu")
    assert (len(splits.train), splits.info.shape, splits.info.n_outputs) == (200, (1, 8, 8), 10)
    assert splits.train.x.device.type == "cpu"


def test_a_batch_size_larger_than_the_training_split_is_refused():
    spec = parse_spec(tiny_digits_spec(train_subset=50, space={"batch_size": [64, 128]}))
    with pytest.raises(DataError, match="batch_size 64 is larger than the 50 training examples of 'digits'"):
        prepare(spec)


def test_a_custom_builder_with_the_wrong_output_is_refused_before_any_trial(tmp_path):
    (tmp_path / "m.py").write_text(
        "import math\n\nfrom torch import nn\n\ndef build(params, input_shape, n_outputs):\n"
        "    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), 3))\n"
    )
    spec = parse_spec(
        {**tiny_digits_spec(), "model": "m.py:build", "space": {"lr": {"low": 0.001, "high": 0.1}}}, base_dir=tmp_path
    )
    splits = prepare(parse_spec(tiny_digits_spec()))
    with pytest.raises(ModelError, match=r"returns \(2, 3\) for 2 examples; expected a tensor of shape \(2, 10\)"):
        check_model(spec, splits)
