"""How every PNG figure looks and is written: matplotlib on Agg in Optuna's ggplot look with a CJK fallback
font, the colours, the value axis in the metric's units (from 0, or saying it does not start there), and
:func:`save`. The figures themselves are :mod:`autotune.reporting.plots`, :mod:`autotune.reporting.space_plots`
and :mod:`autotune.reporting.optuna_plots`.
"""

from __future__ import annotations

import functools
from pathlib import Path

from autotune.words import figures as ft

#: Tried glyph by glyph (matplotlib >= 3.6 falls back per glyph): Latin from DejaVu Sans, Chinese from a CJK font
FONTS = (
    "DejaVu Sans",
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "WenQuanYi Zen Hei",
    "Source Han Sans SC",
    "Microsoft YaHei",
    "PingFang SC",
)
BLUE, ORANGE, RED, GREY = "#4c72b0", "#dd8452", "#c44e52", "#d9d9d9"
#: Colours of bar groups, in order
GROUP_COLOURS = ("#8c8c8c", BLUE, ORANGE, "#55a868")


def pyplot():
    """matplotlib.pyplot on Agg, in Optuna's ggplot look (its plots set it anyway), with a CJK fallback font."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.style.use("ggplot")
    plt.rcParams["font.family"] = list(_installed_fonts())
    return plt


@functools.lru_cache(maxsize=1)
def _installed_fonts() -> tuple[str, ...]:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return tuple(f for f in FONTS if f in names) or ("sans-serif",)


def save(fig, path: Path, *, dpi: int = 110) -> Path | None:
    """Write ``fig`` (None: nothing to draw) as a PNG at ``path`` and close it."""
    if fig is None:
        return None
    import matplotlib.pyplot as plt

    if fig.get_layout_engine() is None:
        fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def value_axis(
    ax, metric: str, lang: str, *, label: str | None = None, low: float | None = None, high: float | None = None
) -> None:
    """Label the y axis with the metric (in percent where it is printed in percent) and start it at 0 where
    that costs little room (the lowest value, ``low``, at most half the highest); otherwise keep the axis
    zoomed on the data and say in its label that it does not start at 0. Without ``low`` and ``high``, the
    extent of what is drawn on ``ax``."""
    from matplotlib.ticker import PercentFormatter

    label = label or ft.metric_label(metric, lang)
    if ft.is_percent(metric):
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    if low is None or high is None:
        low, high = ax.dataLim.y0, ax.dataLim.y1
    if 0 <= low <= high / 2:
        ax.set_ylim(bottom=0)
    elif low > 0:
        label = ft.not_from_zero(label, lang)
    ax.set_ylabel(label)


def percent_colorbar(colorbar, metric: str, lang: str) -> None:
    from matplotlib.ticker import PercentFormatter

    colorbar.set_label(ft.metric_label(metric, lang))
    if ft.is_percent(metric):
        colorbar.formatter = PercentFormatter(1.0)
        colorbar.update_ticks()
