"""`bench/run.py --check` decides a row's target from the row alone: a bound on our figure, or
(with an ``x`` suffix) on the ratio against the baseline measured in the same run."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_RUN = Path(__file__).resolve().parents[1] / "bench" / "run.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_run", _RUN)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _row(ours, baseline=None, target="", higher=True):
    return {"scenario": "s", "metric": "m", "ours": ours, "baseline": baseline, "unit": "u", "higher_is_better": higher, "target": target}


@pytest.mark.parametrize(
    ("row", "met"),
    [
        (_row(25_000, target=">= 20,000"), True),
        (_row(19_999, target=">= 20,000"), False),
        (_row(0.15, target="<= 0.2"), True),
        (_row(0.25, target="<= 0.2"), False),
        (_row(4.9, target="<= 5 s"), True),
        (_row(90, 100, target=">= 0.8x"), True),   # ratio 0.9
        (_row(70, 100, target=">= 0.8x"), False),  # ratio 0.7
        (_row(2.0, 1.0, target=">= 0.8x", higher=False), False),  # lower is better: ratio 0.5
        (_row(1.0, 2.0, target=">= 0.8x", higher=False), True),   # ratio 2.0
        (_row(5, None, target=">= 0.8x"), False),  # a ratio target with no baseline is not met
        (_row(5, target=""), None),
        (_row(5, target="about 5"), None),
    ],
)
def test_target_met(bench, row, met):
    assert bench.target_met(row, bench.ratio_of(row)) is met


def test_markdown_table_has_every_row(bench):
    text = bench.markdown_table(["a", "b"], [["1", "x|y"], ["2", "z"]])
    lines = [ln for ln in text.splitlines() if ln.startswith("| ")]
    assert lines == ["| a | b |", "| 1 | x\\|y |", "| 2 | z |"]
