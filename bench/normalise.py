"""Micro-benchmark of ingest.normalise: prints calls per second for the hot-path functions.

Run: ``.venv/bin/python bench/normalise.py`` (add ``--names N`` to change the name count).
``split_org_name`` is measured twice over N distinct names: first calls (uncached, after the
tables are built once) and repeated calls (served from its LRU cache).
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Sequence

from ingest import normalise as nz

_REGIONS = ("", "郑州市", "河南省郑州市金水区", "北京", "上海市浦东新区", "深圳市", "新郑市", "鄭州市", "广州市天河区")
_TRADE_CHARS = "鑫源华泰恒达盛利丰瑞祥宏兴隆昌福安康宁永通广金鼎宇晟博远卓越锦程创新汇聚德信诚"
_INDUSTRIES = ("商贸", "科技发展", "信息技术", "餐饮管理", "建筑工程", "百货", "种植", "投资", "物流", "", "贸易")
_FORMS = ("有限公司", "有限责任公司", "股份有限公司", "店", "专业合作社", "合伙企业(有限合伙)", "商行")


def make_names(n: int, seed: int = 7) -> list[str]:
    """Return ``n`` distinct, realistic organisation names (some traditional, some bracketed)."""
    rng = random.Random(seed)
    names: set[str] = set()
    while len(names) < n:
        region = rng.choice(_REGIONS)
        trade = "".join(rng.choices(_TRADE_CHARS, k=rng.choice((2, 2, 3, 4))))
        body = trade + rng.choice(_INDUSTRIES)
        form = rng.choice(_FORMS)
        if region and rng.random() < 0.2:
            names.add(f"{body}（{region.rstrip('市')}）{form}")
        else:
            names.add(region + body + form)
    return sorted(names)


def rate(fn: Callable[[object], object], values: Sequence[object], repeat: int = 1) -> float:
    """Return calls per second of ``fn`` over ``values`` (``repeat`` passes)."""
    start = time.perf_counter()
    for _ in range(repeat):
        for value in values:
            fn(value)
    return len(values) * repeat / (time.perf_counter() - start)


def _cold(cached: Callable[..., object], fn: Callable[[object], object], values: Sequence[object]) -> float:
    """Return calls per second of ``fn`` with the LRU cache behind it emptied first."""
    cached.cache_clear()  # type: ignore[attr-defined]
    return rate(fn, values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--names", type=int, default=50_000)
    args = parser.parse_args()

    names = make_names(args.names)
    rng = random.Random(11)
    texts = [f" {n}\u3000 (注册号 {i})" for i, n in enumerate(names[:10_000])]
    dates = [f"{rng.randint(1990, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" for _ in range(20_000)]
    mixed_dates = sorted(
        {
            rng.choice(("{y}/{m}/{d}", "{y}年{m}月{d}日", "{y}{m:02d}{d:02d}", "{y}.{m}.{d}")).format(
                y=rng.randint(1990, 2024), m=rng.randint(1, 12), d=rng.randint(1, 28)
            )
            for _ in range(20_000)
        }
    )
    amounts = [
        rng.choice(("{}", "{}万元", "{}万元人民币", "{},000")).format(rng.randint(1, 999)) for _ in range(20_000)
    ]

    nz.split_org_name.cache_clear()
    nz.split_org_name("预热")  # build the region/industry tables outside the timing

    rows = [
        ("clean_text", rate(nz.clean_text, texts, 5)),
        ("name_key", rate(nz.name_key, texts, 5)),
        ("to_simplified", rate(nz.to_simplified, texts, 5)),
        ("split_org_name (uncached)", rate(nz.split_org_name, names)),
        ("split_org_name (cached)", rate(nz.split_org_name, names, 3)),
        ("parse_date (ISO)", rate(nz.parse_date, dates, 5)),
        ("parse_date (mixed, first calls)", _cold(nz._parse_date_text, nz.parse_date, mixed_dates)),
        ("parse_date (mixed forms)", rate(nz.parse_date, mixed_dates, 5)),
        ("parse_amount", rate(nz.parse_amount, amounts, 5)),
        ("parse_ratio", rate(nz.parse_ratio, ["60%", "0.35", "12.5", "100"] * 5000, 5)),
        ("normalise_phone", rate(nz.normalise_phone, ["+86 138-1234-5678", "0371-66661234"] * 5000, 5)),
    ]
    width = max(len(label) for label, _ in rows)
    for label, per_second in rows:
        print(f"{label:<{width}}  {per_second:>12,.0f} calls/s  {1e6 / per_second:7.2f} µs/call")


if __name__ == "__main__":
    main()
