"""Child process: import a model file, call ``build_model()``, write the model's facts as JSON.

python -m grader.runner.describe MODEL_PY RESULT_JSON
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(model_file: str, result: str) -> int:
    from grader.runner.child import SubmissionError, import_submission

    try:
        module = import_submission(Path(model_file).resolve())
    except SubmissionError as error:
        print(error, file=sys.stderr)
        return 1
    model = module.build_model()

    from grader.model_facts import describe_model

    Path(result).write_text(json.dumps(describe_model(model).to_dict()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:3]))
