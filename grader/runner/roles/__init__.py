"""What a child process does for the grader, one role per module. Only one ever runs student code.

| role | module | runs student code | trusted with |
| --- | --- | --- | --- |
| builder | ``builder.py`` | yes (its ``model.py``; for calibration, a reference's) | nothing: what it says is a claim |
| trainer | ``trainer.py`` | never: it rebuilds a vetted declaration | training and the predictions scored, under ``trainer = "grader"`` |
| verifier | ``verifier.py`` | never: safe-mode loading | under ``trainer = "submission"``: the facts and predictions scored |
| pacer | ``pacer.py`` | never | the training clock's pace |

A child process takes one role by its subject (``--model``/``--reference``: builder,
``--declared``: trainer, ``--saved``: verifier); every child that runs no submission code also
paces. Under ``trainer = "submission"`` the builder trains its own model, and the grade says so.
"""

from __future__ import annotations

from grader.runner.roles.builder import Builder
from grader.runner.roles.pacer import Pacer
from grader.runner.roles.trainer import Trainer
from grader.runner.roles.verifier import Verifier

__all__ = ["Builder", "Pacer", "Trainer", "Verifier"]
