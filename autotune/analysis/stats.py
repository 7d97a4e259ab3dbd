"""The statistics of seed comparisons, in one place: the paired t-test across seeds, Holm's correction, and the t
quantile behind a 95% interval. :mod:`autotune.analysis.ablation` and :mod:`autotune.analysis.confirmation`
both use these, so an ablation row and a confirmation row are tested the same way."""

from __future__ import annotations

from collections.abc import Sequence

#: Below this many seeds a paired test is not run: its p-value would rest on one or two differences.
MIN_SEEDS_FOR_P = 3
#: The level at which a paired test (Holm-adjusted where several are made) calls a difference measurable.
ALPHA = 0.05


def same_difference(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether every seed shows the same difference, up to rounding: accuracies are counts over one
    validation set, so equal counts can differ in the last bits, and a t-test would read that rounding
    as a spread near zero (a p-value near 0 that no data support)."""
    diffs = [x - y for x, y in zip(a, b)]
    return max(diffs) - min(diffs) <= 1e-9 * max(1.0, max(abs(d) for d in diffs))


def paired_p_value(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Two-sided paired t-test across seeds; None with fewer than :data:`MIN_SEEDS_FOR_P` pairs, or when every
    seed shows the same difference (:func:`same_difference`: no spread, so the test is undefined, and the verdict
    says so instead)."""
    if len(a) < MIN_SEEDS_FOR_P or len(a) != len(b) or same_difference(a, b):
        return None
    from scipy import stats

    return float(stats.ttest_rel(a, b).pvalue)


def t_quantile(q: float, df: int) -> float:
    """Student's t quantile (scipy's, which scikit-learn already brings)."""
    from scipy import stats

    return float(stats.t.ppf(q, df))


def holm(p_values: Sequence[float], *, m: int | None = None) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given. ``m`` is the number of comparisons made
    (default: as many as p-values); comparisons that ran no test count toward it, which only makes
    the correction stricter."""
    m = len(p_values) if m is None else m
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for step, i in enumerate(order):
        running = max(running, min(1.0, (m - step) * p_values[i]))
        adjusted[i] = running
    return adjusted
