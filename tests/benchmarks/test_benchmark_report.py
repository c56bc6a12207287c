"""The quality benchmark: one command writes the report, and it resumes."""

import json

import numpy as np
import pytest

from skusl.benchmarks import _quality
from skusl.benchmarks.__main__ import main


@pytest.fixture
def data_dir(tmp_path):
    rng = np.random.RandomState(0)
    centres = np.eye(4)[:3]
    X = np.vstack([c + 0.1 * rng.randn(25, 4) for c in centres]).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    y = np.repeat(np.arange(3), 25)
    d = tmp_path / "data"
    d.mkdir()
    np.savez(d / "toy.npz", X=X, y=y)
    np.savez(d / "other.npz", X=X[::-1].copy(), y=y[::-1].copy())
    return d


ARGS = ["--selectors", "random", "stratified", "kcenter_greedy", "usl",
        "--budgets", "1", "2", "--seeds", "0", "1", "--no-progress"]


def test_report_written_and_resumed(data_dir, tmp_path, monkeypatch):
    out = tmp_path / "report"
    main(["quality", "--data", str(data_dir), "--out", str(out), "--datasets", "toy", *ARGS])
    md = (out / "README.md").read_text()
    assert "stratified (oracle" in md and "not fair" in md.lower()
    assert "| 2/class | USL |" in md
    assert (out / "toy.png").stat().st_size > 1000
    summary = json.loads((out / "results.json").read_text())
    cells = summary["cells"]
    assert len(cells) == 4 * 2  # selectors x budgets, seeds averaged
    strat = [c for c in cells if c["selector"] == "stratified"]
    assert all(c["coverage"]["mean"] == 1.0 and c["coverage"]["n"] == 2 for c in strat)
    assert summary["meta"]["graphs"]["toy"]["n_samples"] == 75
    lines = (out / "cache" / "toy.jsonl").read_text().splitlines()
    assert len(lines) == 1 + 4 * 2 * 2  # the graph record + one per cell

    # Interrupted runs continue: cached cells are never recomputed.
    def boom(*args, **kwargs):
        raise AssertionError("a cached cell was recomputed")

    monkeypatch.setattr(_quality, "run_cell", boom)
    main(["quality", "--data", str(data_dir), "--out", str(out), "--datasets", "toy", *ARGS])
    # a truncated last line (a killed run) is skipped, and only that cell reruns
    path = out / "cache" / "toy.jsonl"
    path.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:20])
    monkeypatch.undo()
    calls = []
    real = _quality.run_cell
    monkeypatch.setattr(_quality, "run_cell", lambda *a, **k: calls.append(a) or real(*a, **k))
    main(["quality", "--data", str(data_dir), "--out", str(out), "--datasets", "toy", *ARGS])
    assert len(calls) == 1


def test_report_only_and_unknown_names(data_dir, tmp_path):
    out = tmp_path / "r"
    main(["quality", "--data", str(data_dir), "--out", str(out), "--report-only", *ARGS])
    assert "toy" in (out / "README.md").read_text()
    with pytest.raises(ValueError, match="no dataset"):
        main(["quality", "--data", str(data_dir), "--out", str(out), "--datasets", "nope"])
    with pytest.raises(SystemExit):
        main(["quality", "--data", str(data_dir), "--out", str(out), "--selectors", "magic"])


def test_uslt_marked_not_run_without_torch(data_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(_quality, "_uslt_available", lambda: False)
    out = tmp_path / "r"
    main(["quality", "--data", str(data_dir), "--out", str(out), "--datasets", "toy",
          "--selectors", "random", "uslt", "--budgets", "1", "--seeds", "0", "--no-progress"])
    assert "Not run: USL-T" in (out / "README.md").read_text()


def test_changed_metrics_rescore_cached_selections(data_dir, tmp_path, monkeypatch):
    out = tmp_path / "r"
    args = ["quality", "--data", str(data_dir), "--out", str(out), "--datasets", "toy",
            "--selectors", "random", "--budgets", "1", "--seeds", "0", "--no-progress"]
    main(args)
    monkeypatch.setattr(_quality, "METRICS_VERSION", _quality.METRICS_VERSION + 1)
    monkeypatch.setattr(_quality, "run_cell", lambda *a, **k: 1 / 0)
    main(args + ["--report-only"])
    last = json.loads((out / "cache" / "toy.jsonl").read_text().splitlines()[-1])
    assert last["metrics_version"] == _quality.METRICS_VERSION


@pytest.mark.parametrize("command", ["backends", "topk", "hdl", "hdl-k", "kmeans",
                                     "kmeans-large-m"])
def test_measurement_commands_are_reachable(command, capsys):
    from skusl.benchmarks.__main__ import PASS_THROUGH, main

    assert command in PASS_THROUGH
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert f"python -m skusl.benchmarks {command}" in capsys.readouterr().out


def test_selector_version_recomputes_only_that_selector(data_dir, tmp_path, monkeypatch):
    out = tmp_path / "report"
    args = ["quality", "--data", str(data_dir), "--out", str(out), "--datasets", "toy",
            "--selectors", "random", "probcover", "--budgets", "1", "--seeds", "0",
            "--no-progress"]
    main(args)
    calls = []
    real = _quality.run_cell
    monkeypatch.setattr(_quality, "run_cell", lambda name, *a: calls.append(name) or
                        real(name, *a))
    monkeypatch.setitem(_quality.SELECTOR_VERSIONS, "probcover",
                        _quality.selector_version("probcover") + 1)
    main(args)
    assert calls == ["probcover"]  # random's cell is reused
    md = (out / "README.md").read_text()
    assert "ProbCover's coverage >= random's on every set" in md
    assert "ProbCover's linear probe >= random's on every set" in md


def test_probcover_delta_table(data_dir, tmp_path):
    out = tmp_path / "delta.md"
    main(["probcover-delta", "--data", str(data_dir), "--out", str(out), "--datasets", "toy",
          "--budgets", "1"])
    md = out.read_text()
    assert md.count("| **auto**") == 1 and md.count("| fair share |") == 1
