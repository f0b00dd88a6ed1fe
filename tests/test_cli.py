"""The command line's own lines: its version, and errors that quote paths, names and advice
printed as written (square brackets are not console markup)."""

from __future__ import annotations

import importlib.metadata

import pytest

from grader import backends
from grader.cli import EXIT_USAGE, main


def test_version_is_the_installed_packages(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"grader {importlib.metadata.version('grader')}"


@pytest.fixture(autouse=True)
def wide(monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # long temporary paths on one line


def test_a_path_in_an_error_is_printed_as_written(tmp_path, capsys):
    folder = tmp_path / "[bold]class[/bold]"
    assert main(["gradebook", str(folder)]) == EXIT_USAGE
    assert f"{folder} is not a folder of results" in capsys.readouterr().out


def test_install_advice_keeps_its_extra(capsys):
    missing = [name for name in backends.BACKENDS if backends.version(name) is None]
    if not missing:
        pytest.skip("every Keras backend is installed here")
    assert (
        main(["grade", "submissions/alice", "--backend", missing[0], "--out", "/nonexistent"]) == EXIT_USAGE
    )
    assert f"pip install 'grader[{missing[0]}]'" in capsys.readouterr().out


def test_the_version_follows_the_changelog():
    """The newest CHANGELOG.md heading is the version pyproject.toml builds and the package says."""
    import re
    import tomllib
    from pathlib import Path

    import grader

    root = Path(__file__).parent.parent
    newest = re.search(r"^## (\S+)", (root / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert newest is not None
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    assert newest.group(1) == project == grader.__version__
