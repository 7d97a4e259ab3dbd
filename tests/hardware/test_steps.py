"""The training step's names, its check and a stored trial's recorded step."""

from __future__ import annotations

import pytest

from autotune.errors import OptionError
from autotune.hardware import steps


def test_an_unknown_step_names_the_allowed_ones():
    assert steps.check_step("fused") == "fused"
    with pytest.raises(OptionError) as err:
        steps.check_step("compiled")
    assert str(err.value) == "step 'compiled' is not a training step; allowed: plain, fused"
    assert err.value.for_flags() == "--step 'compiled' is not a training step; allowed: plain, fused"


def test_a_trial_without_a_recorded_step_trained_plain():
    assert steps.recorded_step({}) == "plain"
    assert steps.recorded_step({"step": "fused"}) == "fused"
    assert steps.recorded_step({"step": "plain"}) == "plain"
    assert steps.recorded_step({"step": "warp"}) == "plain"  # nothing else was ever written
