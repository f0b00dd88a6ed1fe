"""Why a tutorial's code fails on one TensorFlow version, in one line an instructor can act on.

Each rule matches what the grader reported (a build error, a check's message, a warning Keras
printed) or what it recorded about the model as built; the first match gives the reason. What
no rule knows is shown as the grader's own first sentence, so a cell is never left unexplained.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    reason: str  # may use the pattern's groups, e.g. {1}


RULES = (
    Rule(re.compile(r"Argument\(s\) not recognized: \{'lr'"), "Keras 3 rejects `lr`; use `learning_rate`"),
    Rule(
        re.compile(r"`lr` is deprecated in Keras optimizer"),
        "this Keras ignores `lr` with only a warning and trains at the default rate; use `learning_rate`",
    ),
    Rule(
        re.compile(r"The `lr` argument is deprecated"),
        "`lr` still works here but is deprecated; use `learning_rate`",
    ),
    Rule(
        re.compile(r"No module named '(keras\.layers\.(?:core|convolutional|pooling|recurrent))'"),
        "Keras 2.13+ has no `{1}`; import layers from `keras.layers`",
    ),
    Rule(
        re.compile(r"No module named 'keras'"),
        "standalone `keras` is not installed with this TensorFlow; use `tensorflow.keras`",
    ),
    Rule(
        re.compile(r"filepath provided must end in `\.keras`"),
        "Keras 3's ModelCheckpoint saves `.keras` files only (or `.weights.h5` with save_weights_only=True)",
    ),
    Rule(
        re.compile(r"predict_classes"),
        "`predict_classes` was removed in TF 2.6; use `np.argmax(model.predict(x), axis=-1)`",
    ),
    Rule(
        re.compile(r"Do not pass an `input_shape`/`input_dim` argument to a layer"),
        "Keras 3 warns about `input_shape=` on a layer; start with `keras.Input(shape)`",
    ),
    Rule(
        re.compile(r"outputs \(None(?:, \d+){2,}, 10\)", re.IGNORECASE),
        "Dense acts on a 4-D feature map: the listing has no Flatten before its Dense layers",
    ),
    Rule(
        re.compile(r"cannot be loaded without running the submission's own code"),
        "the trained model needs the submission's own code to load (a Lambda, custom or subclassed layer)",
    ),
)


def explain(text: str, model: dict[str, Any] | None = None, *, check_kind: str = "") -> str:
    """The reason for ``text`` (a check's message, the build error or a warning)."""
    for rule in RULES:
        found = rule.pattern.search(text)
        if found:
            return rule.reason.format(*([found.group(0), *found.groups()]))
    if check_kind == "accuracy" and model and _default_adadelta(model):
        return (
            "Adadelta() starts at learning rate 0.001 in tf.keras and Keras 3, not standalone Keras's 1.0; "
            "pass `learning_rate=1.0`"
        )
    return first_sentence(text)


def first_sentence(text: str) -> str:
    line = " ".join(text.split())
    line = re.sub(r"^(Not run: |The model did not build: )", "", line)
    end = re.search(r"(?<=[a-z0-9)%])\. ", line)
    return line[: end.start() + 1] if end else line


def _default_adadelta(model: dict[str, Any]) -> bool:
    rate = model.get("learning_rate")
    return model.get("optimizer") == "Adadelta" and rate is not None and abs(rate - 0.001) < 1e-9
