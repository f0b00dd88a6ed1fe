"""Child process: import a model file, call ``build_model()``, write the model's facts as JSON.

python -m grader.runner.describe MODEL_PY RESULT_JSON
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path


def main(model_file: str, result: str) -> int:
    spec = importlib.util.spec_from_file_location("submission_model", model_file)
    if spec is None or spec.loader is None:
        print(f"cannot load {model_file} as Python", file=sys.stderr)
        return 1
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(Path(model_file).parent))
    spec.loader.exec_module(module)
    build = getattr(module, "build_model", None)
    if not callable(build):
        print(f"{Path(model_file).name} defines no build_model() function", file=sys.stderr)
        return 1
    model = build()

    from grader.model_facts import describe_model

    Path(result).write_text(json.dumps(describe_model(model).to_dict()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:3]))
