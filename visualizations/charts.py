"""Report charts as SVG text with the text kept as text (matplotlib ``svg.fonttype: none``).

The reader's browser draws the Chinese characters with its own fonts, so a machine without
a CJK font still renders legible charts. Use :func:`bar_svg` and :func:`timeline_svg`;
both return an ``<svg>`` element ready to inline in a page.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Sequence
from typing import Any

_FONTS = ["Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei",
          "DejaVu Sans"]  # fmt: skip


def _figure(width: float, height: float) -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.family": "sans-serif", "font.sans-serif": _FONTS,
                         "axes.spines.top": False, "axes.spines.right": False})  # fmt: skip
    return plt.subplots(figsize=(width, height))


def _svg(fig: Any) -> str:
    import logging

    import matplotlib.pyplot as plt

    buf = io.StringIO()
    # layout needs glyph metrics; without a CJK font matplotlib warns about missing glyphs
    # (the browser draws them anyway, since text stays text)
    level = logging.getLogger("matplotlib.font_manager").level
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Gg]lyph.*missing.*")
            warnings.filterwarnings("ignore", message=".*findfont.*")
            fig.tight_layout()
            fig.savefig(buf, format="svg")
    finally:
        logging.getLogger("matplotlib.font_manager").setLevel(level)
        plt.close(fig)
    text = buf.getvalue()
    start = text.find("<svg")
    return re.sub(r"<metadata>.*?</metadata>", "", text[start:], flags=re.S)


def bar_svg(labels: Sequence[str], values: Sequence[float], title: str, *, horizontal: bool = False,
            colour: str = "#2e86c1") -> str:
    """Return a bar chart as inline SVG."""
    height = max(2.6, 0.35 * len(labels) + 1.2) if horizontal else 3.2
    fig, ax = _figure(6.4, height)
    if horizontal:
        ax.barh(list(range(len(labels)))[::-1], values, color=colour)
        ax.set_yticks(list(range(len(labels)))[::-1], labels)
        for i, v in enumerate(values):
            ax.text(v, len(labels) - 1 - i, f" {v:g}", va="center", fontsize=9)
    else:
        ax.bar(range(len(labels)), values, color=colour)
        ax.set_xticks(range(len(labels)), labels, rotation=20 if len(labels) > 3 else 0, ha="right" if len(labels) > 3 else "center")
        for i, v in enumerate(values):
            ax.text(i, v, f"{v:g}", ha="center", va="bottom", fontsize=9)
    ax.set_title(title)
    return _svg(fig)


def timeline_svg(periods: Sequence[str], values: Sequence[float], title: str) -> str:
    """Return counts per period (e.g. month) as an inline SVG bar chart over time."""
    fig, ax = _figure(6.4, 3.0)
    ax.bar(range(len(periods)), values, color="#e67e22")
    step = max(1, len(periods) // 12)
    ticks = list(range(0, len(periods), step))
    ax.set_xticks(ticks, [periods[i] for i in ticks], rotation=30, ha="right")
    ax.set_ylabel("案例数")
    ax.set_title(title)
    return _svg(fig)
