"""bench/run_all.py: which scripts it runs and what it writes into bench/README.md (nothing timed)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture
def run_all(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCH))
    import run_all

    return run_all


def test_only_scripts_with_the_shared_interface_run(
    run_all: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bench_plugged.py").write_text(
        'QUICK = ["--rows", "10"]\nFULL = ["--rows", "1000"]\ndef main(): pass\n'
    )
    (tmp_path / "bench_old.py").write_text("def main(): pass\n")
    (tmp_path / "helper.py").write_text("QUICK = []\nFULL = []\ndef main(): pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(run_all, "BENCH_DIR", tmp_path)
    for name in ("bench_plugged", "bench_old"):
        monkeypatch.delitem(sys.modules, name, raising=False)

    assert run_all.scripts(None) == [("plugged", ["--rows", "10"], ["--rows", "1000"])]
    assert "skipping bench_old.py" in capsys.readouterr().out
    assert run_all.scripts(["old"]) == []


def test_the_table_replaces_only_what_stands_between_the_markers(
    run_all: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from results import Result, table

    readme = tmp_path / "README.md"
    readme.write_text(
        "# Benchmarks\n\nBefore.\n\n<!-- run_all: begin -->\nold table\n<!-- run_all: end -->\n\nAfter.\n"
    )
    monkeypatch.setattr(run_all, "README", readme)
    rows = [
        Result("budget", "API", 1.5, 1.0, 1.5, "≤ 1.5×", True, "worst round 1.7×"),
        Result("readings", "API", 2.0, 0.5, 0.25, "≥ 0.5×", False),
        Result("generate", "plant", 30.0, None, None),
    ]
    run_all.update_readme(table(rows))

    assert readme.read_text() == (
        "# Benchmarks\n\nBefore.\n\n<!-- run_all: begin -->\n"
        "| bench | work | ours | baseline | ratio | target | | note |\n"
        "|---|---|---:|---:|---:|---:|---|---|\n"
        "| budget | API | 1.50 s | 1.00 s | 1.50× | ≤ 1.5× | PASS | worst round 1.7× |\n"
        "| readings | API | 2.00 s | 500.0 ms | 0.25× | ≥ 0.5× | FAIL |  |\n"
        "| generate | plant | 30.00 s |  |  |  |  |  |\n"
        "<!-- run_all: end -->\n\nAfter.\n"
    )


def test_a_readme_without_markers_is_left_alone(
    run_all: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Benchmarks\n")
    monkeypatch.setattr(run_all, "README", readme)
    with pytest.raises(SystemExit, match="no <!-- run_all: begin -->"):
        run_all.update_readme("| table |")
    assert readme.read_text() == "# Benchmarks\n"
