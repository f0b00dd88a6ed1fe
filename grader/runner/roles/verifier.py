"""The verifier: loads a trained model with Keras's safe mode and predicts, running no submission code.

Safe mode builds only Keras's own layers (no Lambda code, no custom objects), so the model facts
it re-reads and the predictions the grader scores come from a process the student's code never
touched. The same child paces training for the clock (pacer.py) while a model trains beside it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.runner import fitting
from grader.runner.protocol import Channel, SubmissionError


class Verifier:
    """Loads ``model.keras`` (copied in by the grader) on ``build``; predicts on ``predict``."""

    def __init__(self, args: argparse.Namespace, channel: Channel) -> None:
        self.saved: Path = args.saved
        self.work: Path = args.work
        self.model: Any = None

    def commands(self) -> dict[str, Callable[[], dict[str, Any]]]:
        return {"build": self.build, "predict": self.predict}

    def build(self) -> dict[str, Any]:
        import keras

        from grader.model_facts import describe_model

        try:
            self.model = keras.models.load_model(self.saved, compile=False, safe_mode=True)
        except Exception as error:  # any failure to load is the submission's to fix
            raise SubmissionError(
                "the trained model cannot be loaded without running the submission's own code "
                f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}). "
                "Build it from Keras's built-in layers: no Lambda layers, custom layers or subclassed models."
            ) from None
        return {
            "facts": describe_model(self.model).to_dict(),
            "compiled_by": "",
            "optimizer": "",
            "loss": "",
            "labels": "",
            "fit": {},
            "notes": [],
        }

    def predict(self) -> dict[str, Any]:
        return fitting.predict(self.model, self.work)
