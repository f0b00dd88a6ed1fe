"""The Gradescope autograder end to end: the zip built, unpacked into an /autograder-like root,
``setup.sh`` run (a real install of this grader and a real calibration), then ``run_autograder``
for the uploads students really make; every results.json is checked against Gradescope's schema."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest

from grader.gradescope import build_autograder, find_model
from grader.gradescope.run import UploadError
from grader.runner.sandbox import closed_to_others
from tests.conftest import CLASS_ASSIGNMENT, SUBMISSIONS
from tests.test_results import validate

SETUP_TIMEOUT_S = 900
RUN_TIMEOUT_S = 600


def _shared_python() -> str | None:
    """A Python 3.11+ every user can read: the fallback's unprivileged child must start it."""
    for candidate in (sys.executable, "/usr/bin/python3.11", "/usr/bin/python3"):
        path = Path(candidate).resolve()
        if path.is_file() and not closed_to_others(path) and not closed_to_others(Path(sys.base_prefix)):
            return str(path)
    return None


def _older_python(minor: int) -> str | None:
    """A real CPython 3.``minor``, with venv, as Gradescope's Ubuntu images have (3.8 on 20.04,
    3.10 on 22.04)."""
    candidates = [f"/usr/bin/python3.{minor}"]
    candidates += sorted(str(path) for path in Path.home().glob(f".pyenv/versions/3.{minor}.*/bin/python3"))
    for candidate in candidates:
        check = f"import sys, ensurepip; sys.exit(sys.version_info[:2] != (3, {minor}))"
        if (
            Path(candidate).is_file()
            and subprocess.run([candidate, "-c", check], check=False).returncode == 0
        ):
            return candidate
    return None


def _cpython_download(folder: Path) -> Path | None:
    """The list uv downloads CPython from, naming an archive in python-build-standalone's layout
    made of this machine's /usr/bin/python3.11 and its standard library. On Gradescope uv downloads
    a release; here, with no network, this stands in for it. Only a static build (no libpython to
    find) runs wherever it is unpacked, so anything else is not used."""
    python = Path("/usr/bin/python3.11")
    if not python.is_file():
        return None
    linked = subprocess.run(["ldd", python], capture_output=True, text=True, check=False).stdout
    if "libpython" in linked:
        return None
    version = subprocess.run(
        [python, "-c", "import sys; print(*sys.version_info[:3])"], capture_output=True, text=True, check=True
    )
    major, minor, patch = (int(part) for part in version.stdout.split())

    def portable(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
        skipped = ("/test/", "/idlelib/", "/__pycache__/")
        if member.issym() and member.linkname.startswith("/"):  # Debian's links into /etc
            return None
        return None if any(part in member.name + "/" for part in skipped) else member

    archive = folder / "cpython-3.11.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        tar.add(python, "python/bin/python3.11")
        for name in ("python3", "python"):
            link = tarfile.TarInfo(f"python/bin/{name}")
            link.type, link.linkname = tarfile.SYMTYPE, "python3.11"
            tar.addfile(link)
        tar.add(f"/usr/lib/python3.{minor}", f"python/lib/python3.{minor}", filter=portable)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    arch = platform.machine()
    downloads = {
        f"cpython-{major}.{minor}.{patch}-linux-{arch}-gnu": {
            "name": "cpython",
            "arch": {"family": arch, "variant": None},
            "os": "linux",
            "libc": "gnu",
            "major": major,
            "minor": minor,
            "patch": patch,
            "prerelease": "",
            "url": archive.as_uri(),
            "sha256": digest,
            "variant": None,
            "build": "local",
        }
    }
    listing = folder / "python-downloads.json"
    listing.write_text(json.dumps(downloads))
    return listing


# -- what a student uploads ---------------------------------------------------------------------
def test_the_model_is_found_at_any_depth_or_as_a_lone_file(tmp_path):
    nested = tmp_path / "zip" / "hw1-main" / "src"
    nested.mkdir(parents=True)
    (nested / "model.py").write_text("")
    (tmp_path / "zip" / "__MACOSX").mkdir()
    (tmp_path / "zip" / "__MACOSX" / "model.py").write_text("")  # what macOS's archiver adds
    assert find_model(tmp_path / "zip") == nested / "model.py"
    (tmp_path / "lone").mkdir()
    (tmp_path / "lone" / "hw1.py").write_text("")
    assert find_model(tmp_path / "lone") == tmp_path / "lone" / "hw1.py"
    (tmp_path / "lone" / "hw1.ipynb").write_text("")
    assert find_model(tmp_path / "lone") == tmp_path / "lone" / "hw1.ipynb"  # the notebook, not its helper


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([], "Your upload has no notebook or Python file: upload the notebook (.ipynb) or script (.py)"),
        (["a.py", "b.py"], "has 2 Python files (a.py, b.py) and no model.py: upload only the one"),
        (["a.ipynb", "x/b.ipynb", "c.py"], "has 2 notebooks (a.ipynb, x/b.ipynb) and no model.py"),
        (["x/model.py", "y/model.py"], "more than one model.py (x/model.py, y/model.py): upload only one"),
    ],
)
def test_an_upload_without_one_clear_model_says_what_to_upload(tmp_path, files, message):
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    with pytest.raises(UploadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        find_model(tmp_path)


# -- the autograder, end to end -----------------------------------------------------------------
def _unpack(root: Path) -> None:
    """The class assignment's autograder, unpacked as Gradescope unpacks it."""
    root.chmod(0o755)
    package = build_autograder(str(CLASS_ASSIGNMENT), root / "autograder.zip")
    with zipfile.ZipFile(package) as archive:
        archive.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):  # zipfile drops the modes; Gradescope keeps them
        (root / "source" / script).chmod(0o755)
    assert (root / "source" / "backend").read_text() == "tensorflow\n"  # setup.sh installs grader[tensorflow]


def _set_up(root: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    setup = subprocess.run(
        ["bash", str(root / "source" / "setup.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=SETUP_TIMEOUT_S,
        check=False,
    )
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    return setup


def _run(
    root: Path, env: dict[str, str], upload: dict[str, Path | str], metadata: dict | None = None
) -> tuple[dict, subprocess.CompletedProcess]:
    """``run_autograder`` for one upload, as Gradescope lays it out; its results.json read back."""
    for folder in ("submission", "results"):
        shutil.rmtree(root / folder, ignore_errors=True)
    (root / "submission_metadata.json").unlink(missing_ok=True)
    if metadata is not None:  # Gradescope writes it beside submission/
        (root / "submission_metadata.json").write_text(json.dumps(metadata))
    (root / "submission").mkdir()
    for name, content in upload.items():
        target = root / "submission" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content.read_text() if isinstance(content, Path) else content)
    done = subprocess.run(
        [str(root / "source" / "run_autograder")],
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    results = json.loads((root / "results" / "results.json").read_text())
    validate(results)
    return results, done


def _clean_environment(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env.pop("GRADER_CACHE_DIR", None)
    env.pop("VIRTUAL_ENV", None)
    return env


@pytest.fixture(scope="module")
def autograder():
    """The class assignment's autograder, unpacked and set up in a root every user can pass
    through (as /autograder is), with the results of each upload read back."""
    python = _shared_python()
    if python is None or shutil.which("uv") is None:
        pytest.skip("needs uv and a Python every user can read (such as /usr/bin/python3.11)")
    root = Path(tempfile.mkdtemp(prefix="grader-autograder-root-"))
    _unpack(root)
    env = _clean_environment(AUTOGRADER_ROOT=str(root), GRADER_PYTHON=python)
    _set_up(root, env)

    def run(
        upload: dict[str, Path | str], metadata: dict | None = None
    ) -> tuple[dict, subprocess.CompletedProcess]:
        return _run(root, env, upload, metadata)

    yield root, run
    shutil.rmtree(root, ignore_errors=True)


def test_setup_keeps_the_data_and_assignment_to_root_and_calibrates_once(autograder):
    root, _ = autograder
    source = root / "source"
    assert closed_to_others(source / "data") and closed_to_others(source / "assignment.toml")
    assert not closed_to_others(root / "venv" / "bin" / "python")  # the fallback's child can start it
    assert list((source / "cache" / "calibration").glob("conv_32_64_64-mnist_sample-*.json"))


def test_a_folder_uploaded_with_model_py_deep_inside_is_graded(autograder):
    _, run = autograder
    results, done = run(
        {
            "hw1-main/alice/model.py": SUBMISSIONS / "alice" / "model.py",
            "hw1-main/alice/submission.toml": SUBMISSIONS / "alice" / "submission.toml",
        }
    )
    assert results["score"] == 10, done.stdout[-3000:]
    assert "reference calibration" not in results["output"]  # measured by setup.sh, not per student
    assert [test["status"] for test in results["tests"] if test["max_score"]] == ["passed"] * 4


def test_a_failing_model_and_a_lone_file_are_graded_alike(autograder):
    _, run = autograder
    folder, _ = run({"model.py": SUBMISSIONS / "bob" / "model.py"})
    lone, _ = run({"hw1.py": SUBMISSIONS / "bob" / "model.py"})
    assert folder["score"] == lone["score"] == 2
    assert [t["status"] for t in folder["tests"]] == [t["status"] for t in lone["tests"]]


def test_a_notebook_upload_is_graded_as_its_model_py_is(autograder):
    """bob's model typed into a notebook, as a student following the tutorial in Colab uploads it."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    cells = [
        "%matplotlib inline\nimport keras\nfrom keras.datasets import mnist",
        "(x_train, y_train), (x_test, y_test) = mnist.load_data()\n"
        "x_train = x_train.reshape(-1, 28, 28, 1) / 255\ny_train = keras.utils.to_categorical(y_train)",
        (SUBMISSIONS / "bob" / "model.py").read_text() + "\nmodel = build_model()",
        "model.fit(x_train, y_train, epochs=1)\nmodel.evaluate(x_test, y_test)",
    ]
    upload = nbformat.writes(new_notebook(cells=[new_code_cell(cell) for cell in cells]))
    _, run = autograder
    folder, _ = run({"model.py": SUBMISSIONS / "bob" / "model.py"})
    notebook, done = run({"Homework 1.ipynb": upload})
    assert notebook["score"] == folder["score"] == 2, done.stdout[-3000:]
    assert [t["status"] for t in notebook["tests"]] == [t["status"] for t in folder["tests"]]
    assert "Homework 1.ipynb, code cell 4, line 1" in notebook["output"]


def test_an_empty_upload_is_a_failed_test_that_says_what_to_upload(autograder):
    _, run = autograder
    results, _ = run({})
    assert results["score"] == 0 and results["tests"][0]["max_score"] == 10
    assert results["tests"][0]["output"].startswith("Your upload has no notebook or Python file")


def test_the_graders_own_faults_still_leave_results(autograder):
    root, run = autograder
    data = next((root / "source" / "data").iterdir())
    kept = data.read_bytes()
    try:
        data.write_bytes(b"not a dataset")
        results, _ = run({"model.py": SUBMISSIONS / "alice" / "model.py"})
        assert results["tests"][0]["name"] == "Autograder" and "misconfigured" in results["output"]
        assert "This is not your fault" in results["output"]
    finally:
        data.write_bytes(kept)
    python = root / "venv" / "bin" / "python"
    python.rename(python.with_name("python.away"))  # a broken image: Python itself cannot start
    try:
        results, done = run({"model.py": SUBMISSIONS / "alice" / "model.py"})
    finally:
        python.with_name("python.away").rename(python)
    assert done.returncode == 0 and results["score"] == 0
    assert results["output"].startswith("The autograder could not start (exit code 127)")


def test_submission_limits_turn_away_a_fourth_upload_and_keep_the_best_score(autograder):
    root, run = autograder
    assignment = root / "source" / "assignment.toml"
    kept = assignment.read_text()
    assignment.write_text(kept + '\n[submissions]\nper_day = 2\ncounts = "best"\n')
    try:
        alice, _ = run({"model.py": SUBMISSIONS / "alice" / "model.py"})
        failed, _ = run({})  # an empty upload: not graded, so it does not count
        assert alice["extra_data"]["counted"] and not failed["extra_data"]["counted"]
        past = [
            {"submission_time": "2026-11-20T16:00:00-08:00", "score": 10, "results": alice},
            {"submission_time": "2026-11-20T16:30:00-08:00", "score": 0, "results": failed},
        ]
        bob, _ = run(
            {"model.py": SUBMISSIONS / "bob" / "model.py"},
            {"created_at": "2026-11-20T17:00:00-08:00", "previous_submissions": past},
        )
        assert bob["score"] == 10 and bob["tests"][0]["name"] == "Parameter count"  # bob's own tests
        assert "Submission 2 of the 2 graded in any 24 hours." in bob["output"]
        assert (
            "This submission scored 2; your best, 10 (submitted 2026-11-20T16:00-08:00), stands."
            in bob["output"]
        )
        past.append({"submission_time": "2026-11-20T17:00:00-08:00", "score": 10, "results": bob})
        again, done = run(
            {"model.py": SUBMISSIONS / "bob" / "model.py"},
            {"created_at": "2026-11-20T18:00:00-08:00", "previous_submissions": past},
        )
        assert again["output"].startswith("Not graded: you have had 2 submissions graded in the 24 hours")
        assert "submit after 2026-11-21T16:00-08:00" in again["output"]
        assert again["score"] == 10 and again["tests"] == alice["tests"]  # the best one's tests stand
        assert "Grading" not in done.stdout  # turned away before any child started
    finally:
        assignment.write_text(kept)


@pytest.mark.parametrize("minor", [8, 10])
def test_setup_brings_python_3_11_to_an_image_whose_python3_is_older(tmp_path, minor):
    """Gradescope's Ubuntu 20.04 and 22.04 images: python3 is 3.8 or 3.10, and there is no uv.
    setup.sh installs uv with that python3, has it bring CPython 3.11 into the autograder's root,
    and grades on it."""
    older = _older_python(minor)
    downloads = _cpython_download(tmp_path)
    if older is None or downloads is None:
        pytest.skip(f"needs a Python 3.{minor} and a static /usr/bin/python3.11 to stand in for the download")
    image = tmp_path / "bin"  # the image's PATH: its own python3, the system's tools, and no uv
    image.mkdir()
    (image / "python3").symlink_to(older)
    root = Path(tempfile.mkdtemp(prefix="grader-autograder-old-python-"))
    try:
        _unpack(root)
        env = _clean_environment(
            AUTOGRADER_ROOT=str(root),
            PATH=f"{image}:/usr/bin:/bin",
            UV_PYTHON_DOWNLOADS_JSON_URL=str(downloads),
        )
        env.pop("GRADER_PYTHON", None)
        assert shutil.which("uv", path=env["PATH"]) is None
        setup = _set_up(root, env)
        assert f"Python 3.{minor}." in setup.stdout
        assert "is older than the 3.11 the grader needs; installing CPython 3.11 with uv" in setup.stdout
        assert (root / "uv" / "bin" / "uv").is_file()  # installed with the image's own python3
        python = root / "venv" / "bin" / "python"
        facts = subprocess.run(
            [python, "-c", "import sys; print(sys.version_info >= (3, 11), sys.base_prefix)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert facts[0] == "True" and Path(facts[1]).is_relative_to(root / "python"), facts
        assert not closed_to_others(python.resolve())  # the fallback's child can start it
        results, done = _run(root, env, {"model.py": SUBMISSIONS / "alice" / "model.py"})
        assert results["score"] == 10, done.stdout[-3000:] + done.stderr[-3000:]
    finally:
        shutil.rmtree(root, ignore_errors=True)
