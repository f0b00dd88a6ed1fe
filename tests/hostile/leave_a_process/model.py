"""Starts a detached process that would outlive grading, then fails."""

import subprocess

subprocess.Popen(["sleep", "317"], start_new_session=True)


def build_model():
    raise RuntimeError("left something running")
