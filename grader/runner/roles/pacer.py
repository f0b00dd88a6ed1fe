"""The pace-setter: trains the assignment's reference in a loop beside another child's training,
for the training clock (grader/timing.py). It runs no submission code, ever.

On ``pace`` it trains the reference on ``x_pace.npy``/``y_pace.npy`` at a lower priority (nice 10:
about a tenth of the shared cores), answers ``mark`` with its steps, CPU time and samples so far
(the training clock's watch asks, grader/timing.py), and stops on ``stop`` (both read from stdin
between steps).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import time
from pathlib import Path
from typing import Any

import numpy as np

from grader.runner import training
from grader.runner.protocol import COMMANDS_FD, Channel, read_command

PACE_BATCH = 32  # the pace-setter's steps: small, so a window holds many of them
PACE_WARM_STEPS = 8  # traced and warm before the first mark
PACE_SAMPLE_S = 0.5  # CPU seconds between the samples the clock's noise figure is made of
PACE_NICE = 10  # the pace-setter's priority: about a tenth of a shared core
AUTOGROUP_WAIT_S = 5.0  # how long the pace-setter tries to lower its autogroup's priority


class Pacer:
    """Trains the recipe's reference until told to stop, counting its steps."""

    def __init__(self, args: argparse.Namespace, channel: Channel) -> None:
        self.args = args
        self.channel = channel
        self.work: Path = args.work
        self.model: Any = None

    def pace(self) -> dict[str, Any]:
        """Train until ``stop``; returns the totals and their samples."""
        import keras

        from reference import load

        if self.model is None:  # kept, so pacing again needs no new trace
            training.set_precision(self.args.precision)
            keras.utils.set_random_seed(self.args.seed)
            self.model = load(self.args.recipe).build_model()
        _yield_cores(PACE_NICE)
        x = np.load(self.work / "x_pace.npy", allow_pickle=False).reshape(-1, 28, 28, 1)
        labels = np.load(self.work / "y_pace.npy", allow_pickle=False)
        y = np.eye(10, dtype="float32")[labels]
        clock = _PaceClock(self.channel)
        self.model.fit(**_endless(x.astype("float32") / 255.0, y), verbose=0, callbacks=[clock])
        return clock.totals()


def _endless(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """``fit``'s data for pacing until told to stop. On TensorFlow, one epoch that never ends: a new
    epoch over arrays starts a new ``tf.data`` iterator, and the pace-setter waited 0.1 to 0.2 s
    (once 1.2 s) at each of them with its core idle (measured, 2048 images in steps of 32), so a
    ``stop`` that came then kept the grade waiting. The other backends iterate arrays in Python."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return {"x": x, "y": y, "batch_size": PACE_BATCH, "epochs": 10**6}
    import tensorflow as tf

    stream = tf.data.Dataset.from_tensor_slices((x, y)).repeat().batch(PACE_BATCH)
    return {"x": stream.prefetch(tf.data.AUTOTUNE), "epochs": 1, "steps_per_epoch": 10**12}


def _yield_cores(nice: int) -> None:
    """Lower this process's priority by ``nice``: its session's autogroup (which is what the
    scheduler weighs against other sessions) and each of its threads (where autogroups are off)."""
    _nice_autogroup(nice)
    for thread in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, int(thread), nice)


def _nice_autogroup(nice: int) -> None:
    """Set this session's autogroup nice value. Linux lets an unprivileged process change an
    autogroup's nice value at most once every 0.1 s on the whole machine, and refuses the others
    (EAGAIN): two pace-setters that start pacing together, as the first grades of a class do,
    would leave one at full weight, taking half of its grade's core from the training it paces
    (measured: 53 s of training where its twin took 26 s). So it tries again until it takes."""
    deadline = time.monotonic() + AUTOGROUP_WAIT_S
    while True:
        try:
            Path("/proc/self/autogroup").write_text(str(nice))
            return
        except BlockingIOError:  # another process changed an autogroup in the last 0.1 s
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the pace-setter could not lower its priority in {AUTOGROUP_WAIT_S:g} s "
                    "(/proc/self/autogroup kept refusing)"
                ) from None
            time.sleep(0.02)
        except PermissionError:  # its /proc files are not its own: it would pace at full weight
            raise RuntimeError("the pace-setter may not lower its priority (/proc/self/autogroup)") from None
        except OSError:  # no autogroups here: the threads' own nice values are what count
            return


class _PaceClock:
    """The pace-setter's callback: counts steps, says ``pacing`` once warm, answers ``mark`` and
    stops training on ``stop``."""

    def __new__(cls, channel: Channel) -> Any:
        import keras

        class PaceClock(keras.callbacks.Callback):
            def __init__(self) -> None:
                super().__init__()
                self.steps = 0
                self.samples: list[tuple[int, float]] = []

            def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
                self.steps += 1
                cpu = time.process_time()
                if self.steps < PACE_WARM_STEPS:
                    return
                if not self.samples or cpu - self.samples[-1][1] >= PACE_SAMPLE_S:
                    self.samples.append((self.steps, cpu))
                if self.steps == PACE_WARM_STEPS:
                    # The window opens here, and commands are read from the next step on, so every
                    # window holds a step: a stop that came at once (a training that "ended" as it
                    # began) found the pace-setter still here, and 0 steps failed the clock.
                    channel.send("pacing", steps=self.steps, cpu=cpu)
                    return
                if select.select([COMMANDS_FD], [], [], 0)[0]:
                    if read_command() == "mark":  # the samples go on: the window's noise is all of them
                        channel.send("mark", steps=self.steps, cpu=cpu, samples=self.samples)
                    else:
                        self.model.stop_training = True

            def totals(self) -> dict[str, Any]:
                return {"steps": self.steps, "cpu": time.process_time(), "samples": self.samples}

        return PaceClock()
