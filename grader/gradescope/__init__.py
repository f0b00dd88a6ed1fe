"""Gradescope: the autograder zip an instructor uploads, and what runs inside it per submission."""

from grader.gradescope.build import build_autograder
from grader.gradescope.run import find_model, run_autograder

__all__ = ["build_autograder", "find_model", "run_autograder"]
