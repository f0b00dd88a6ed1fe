"""Starts a swarm of detached processes, each in its own session so a process-group kill misses it."""

import subprocess

SWARM = [subprocess.Popen(["sleep", "3141"], start_new_session=True) for _ in range(200)]


def build_model():
    raise RuntimeError("unreachable: the swarm is stopped first")
