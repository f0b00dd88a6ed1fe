"""Atomic writes: a failure part-way leaves the old file as it was and no debris."""

from __future__ import annotations

import pytest

from grader.atomic import atomic_open, write_text_atomic


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "results.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write(b"half of the new")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_a_write_creates_missing_folders(tmp_path):
    target = tmp_path / "a" / "b" / "report.txt"
    write_text_atomic(target, "hello ✓")
    assert target.read_text(encoding="utf-8") == "hello ✓"
