"""analysis.stats: the one place of the seed comparisons' statistics (ablation and confirmation both use it)."""

from __future__ import annotations

import pytest
from scipy import stats as scipy_stats

from autotune.analysis import ablation, seed_ranking
from autotune.analysis.stats import MIN_SEEDS_FOR_P, holm, paired_p_value, same_difference, t_quantile


def test_the_paired_test_is_scipys_from_three_seeds():
    a, b = [0.91, 0.93, 0.92, 0.95], [0.90, 0.90, 0.91, 0.92]
    assert paired_p_value(a, b) == pytest.approx(float(scipy_stats.ttest_rel(a, b).pvalue))
    assert MIN_SEEDS_FOR_P == 3 and paired_p_value(a[:2], b[:2]) is None and paired_p_value(a, b[:3]) is None


def test_the_same_difference_on_every_seed_up_to_rounding_is_no_test():
    a, b = [0.97, 0.5, 0.25], [0.87, 0.4, 0.15]  # 0.1 on every seed, but not to the last bit
    assert len({x - y for x, y in zip(a, b)}) > 1 and same_difference(a, b)
    assert paired_p_value(a, b) is None  # a t-test would read the rounding as a spread near zero


def test_holm_and_the_t_quantile():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert t_quantile(0.975, 2) == pytest.approx(4.302652729749464)


def test_ablation_and_confirmation_use_the_same_functions():
    assert ablation.paired_p_value is seed_ranking.paired_p_value is paired_p_value
    assert seed_ranking.holm is holm and seed_ranking.t_quantile is t_quantile
