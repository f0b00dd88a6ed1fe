"""The suite's own schedule under pytest -n: a module keeps to one worker unless marked spread."""

from __future__ import annotations

import pytest


def test_a_module_is_one_group_for_the_parallel_workers(request):
    """pytest-xdist sends a group to one worker and names it at the end of each test's id. A pytest
    or pytest-xdist that loses the group (pytest 9.2 with pytest-xdist 3.8 did, silently) would
    build every module's costly fixtures, real grades, once on each worker."""
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("only under pytest -n with --dist loadgroup, as the suite runs")
    assert request.node.nodeid.endswith("@tests.test_conftest"), request.node.nodeid
