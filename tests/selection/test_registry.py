"""One registry of selectors: the CLI, the benchmarks and the report colours read it."""

import numpy as np
import pytest

from skusl.selection import RECOMMENDED, SELECTORS, BaseSelector, make_selector


def test_benchmark_report_and_cli_read_the_registry():
    from skusl.benchmarks import SELECTORS as BENCH
    from skusl.benchmarks._report import COLORS
    from skusl.cli import build_parser

    assert set(SELECTORS) <= set(BENCH)
    assert all(BENCH[name] is spec for name, spec in SELECTORS.items())
    assert all(COLORS[name] == spec.color for name, spec in BENCH.items())
    assert len(set(COLORS.values())) == len(COLORS)  # one colour per selector
    parser = build_parser()
    args = parser.parse_args(["select", "x.npy", "--budget", "3"])
    assert args.method == RECOMMENDED
    for name in SELECTORS:
        assert parser.parse_args(["select", "x.npy", "-m", "3", "--method", name]).method == name


@pytest.mark.parametrize("name", [n for n, s in SELECTORS.items() if s.kind == "skusl"])
def test_every_entry_builds_its_selector(name):
    est = make_selector(name, 4, random_state=0)
    assert isinstance(est, BaseSelector) and est.n_select == 4
    X = np.random.RandomState(0).rand(60, 5)
    assert est.fit(X).selected_indices_.size == 4


def test_unknown_name():
    with pytest.raises(ValueError, match="unknown selector"):
        make_selector("nope", 3)
