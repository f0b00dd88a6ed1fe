"""The class leaderboard as a static site: rank, pseudonyms, a public/private test split,
reference baselines and plots, as HTML, JSON and Markdown that work without a server.

``board`` turns stored results into ranked boards (one per assignment), ``plots`` draws the
images and ``site`` writes the files."""

from grader.leaderboard.board import Board, Entry, build_boards
from grader.leaderboard.site import write_site

__all__ = ["Board", "Entry", "build_boards", "write_site"]
