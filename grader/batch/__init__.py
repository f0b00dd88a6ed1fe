"""A class: every submission folder graded, several at a time, resumable, into a gradebook.

    grade_class([Path("submissions")], jobs=2, out=Path("grades/submissions"))

``discover`` finds the submission folders, ``keys`` says whether a stored result still holds,
``work`` grades one submission (in a thread here, or on a Dask worker), ``run`` schedules them
and keeps the results, ``view`` is the live display and ``gradebook`` the class's CSV and table.
"""

from grader.batch.discover import ClassError, find_submissions, is_class_folder
from grader.batch.run import ClassResult, grade_class

__all__ = ["ClassError", "ClassResult", "find_submissions", "grade_class", "is_class_folder"]
