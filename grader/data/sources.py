"""Where a dataset can come from, tried in a fixed order, and how a found copy is verified.

Order: an explicit directory (``--data-dir`` or ``GRADER_DATA_DIR``), the grader's own data
home (provisioned datasets), the Keras cache (``$KERAS_HOME/datasets``, default
``~/.keras/datasets``), the system folder Debian's package installs, then the Keras download.
A copy that is found but fails verification stops the search with an error: a bad file is
never silently skipped, and never trained on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from grader.data.catalog import IDX_NAMES, DatasetSpec, Known, identify
from grader.data.errors import DataError
from grader.data.formats import NPZ_KEYS, file_digests, read_idx, read_npz

DATA_DIR_ENV = "GRADER_DATA_DIR"
DATA_HOME_ENV = "GRADER_DATA_HOME"


@dataclass(frozen=True)
class Source:
    """Where a dataset was read from and how its files were checked."""

    kind: str  # explicit | data-home | keras-cache | system | download
    path: Path
    verification: str  # checksum | decoded-checksum | structure

    def describe(self) -> str:
        return f"{self.kind} {self.path} ({self.verification})"


@dataclass(frozen=True)
class Location:
    """A place to look: a root folder and the subfolders (``""`` for the root) to try in it."""

    kind: str
    root: Path
    folders: tuple[str, ...]


def data_home() -> Path:
    """The grader's own folder for datasets it provisions (never one Keras reads)."""
    if os.environ.get(DATA_HOME_ENV):
        return Path(os.environ[DATA_HOME_ENV])
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "grader"


def keras_cache() -> Path:
    """The folder where the installed Keras caches its downloads: Keras 3 honours ``KERAS_HOME``;
    Keras 2 always uses ``~/.keras``."""
    home = os.environ.get("KERAS_HOME") if _keras_major() >= 3 else None
    return Path(home or Path.home() / ".keras") / "datasets"


def _keras_major() -> int:
    try:
        return int(metadata.version("keras").split(".")[0])
    except (metadata.PackageNotFoundError, ValueError):
        return 3


def locations(spec: DatasetSpec, data_dir: Path | None) -> Iterator[Location]:
    """Every local place to look for ``spec``, in resolution order."""
    explicit = data_dir or (Path(os.environ[DATA_DIR_ENV]) if os.environ.get(DATA_DIR_ENV) else None)
    if explicit is not None:
        yield Location("explicit", explicit, (*spec.folder_names, ""))
    if spec.name == "mnist_sample":
        yield Location("data-home", data_home() / "datasets", ("",))
    if spec.keras_cache_folder is not None:
        yield Location("keras-cache", keras_cache(), (spec.keras_cache_folder,))
    for folder in spec.system_dirs:
        yield Location("system", folder, ("",))


def _files_in(spec: DatasetSpec, folder: Path) -> dict[str, Path] | Path | None:
    """The npz archive, or the four IDX files (``.gz`` or raw), present in ``folder``."""
    if spec.npz_name and (folder / spec.npz_name).is_file():
        return folder / spec.npz_name
    found = {}
    for part, stem in IDX_NAMES.items():
        for candidate in (folder / f"{stem}.gz", folder / stem):
            if candidate.is_file():
                found[part] = candidate
                break
    if spec.idx_known and found:
        missing = [IDX_NAMES[part] for part in IDX_NAMES if part not in found]
        if missing:
            raise DataError(f"{folder} holds part of {spec.title} but lacks {', '.join(missing)}.")
        return found
    return None


def _check(spec: DatasetSpec, path: Path, known: Known, decoded: str) -> str:
    """Match one file against its known digests; return how it was verified or raise."""
    digests = file_digests(path)
    if known.raw & set(digests.values()):
        return "checksum"
    if known.decoded_sha256 == decoded:
        return "decoded-checksum"
    other = identify(digests, decoded)
    if other:
        raise DataError(f"{path} is not {spec.title}: it is the file for {other}.")
    if known.decoded_sha256 is not None or not known.raw:
        raise DataError(
            f"{path} does not match the known checksums of {spec.title} (sha256 of its "
            f"content {decoded[:16]}...); it is corrupt, altered or another dataset."
        )
    return "structure"  # recompressed copy of a dataset whose decoded digest is not on record


def _check_arrays(spec: DatasetSpec, arrays: dict[str, np.ndarray], where: Path) -> None:
    """Shapes, label range and per-class counts: the decoded fingerprint of the dataset."""
    for split, counts in (("train", spec.train_counts), ("test", spec.test_counts)):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.shape != (sum(counts), 28, 28) or y.shape != (sum(counts),):
            raise DataError(
                f"{where}: {split} split has images {x.shape} and labels {y.shape}; "
                f"{spec.title} has ({sum(counts)}, 28, 28) and ({sum(counts)},)."
            )
        if y.max(initial=0) > 9:
            raise DataError(f"{where}: {split} labels go up to {y.max()}; expected 0 to 9.")
        if tuple(np.bincount(y, minlength=10)) != counts:
            raise DataError(f"{where}: {split} labels per class do not match {spec.title}.")


def read_verified(spec: DatasetSpec, files: dict[str, Path] | Path) -> tuple[dict[str, np.ndarray], str]:
    """Read and verify an npz archive or four IDX files; return arrays and the verification."""
    if isinstance(files, Path):
        arrays, decoded = read_npz(files)
        verdicts = {_check(spec, files, spec.npz_known, decoded)}
        where = files
    else:
        arrays, verdicts = {}, set()
        for part, path in files.items():
            arrays[part], decoded = read_idx(path)
            verdicts.add(_check(spec, path, spec.idx_known[part], decoded))
        where = next(iter(files.values())).parent
    _check_arrays(spec, arrays, where)
    order = ("structure", "decoded-checksum", "checksum")
    return {key: arrays[key] for key in NPZ_KEYS}, min(verdicts, key=order.index)


def find_local(spec: DatasetSpec, data_dir: Path | None) -> tuple[dict[str, np.ndarray], Source] | None:
    """The first local copy of ``spec``, verified; None when no location holds one."""
    for location in locations(spec, data_dir):
        for folder in location.folders:
            directory = location.root / folder if folder else location.root
            files = _files_in(spec, directory) if directory.is_dir() else None
            if files is None:
                continue
            arrays, verification = read_verified(spec, files)
            return arrays, Source(
                location.kind, files if isinstance(files, Path) else directory, verification
            )
    return None


def download(spec: DatasetSpec) -> str | None:
    """Let Keras download into its cache; return None on success or why it failed."""
    if spec.keras_loader is None:
        return "no public download for this dataset"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import keras

        getattr(keras.datasets, spec.keras_loader).load_data()
    except Exception as error:  # any failure here is a reason to list, not a crash
        return str(error).splitlines()[0][:200] if str(error) else type(error).__name__
    return None


def missing_message(spec: DatasetSpec, data_dir: Path | None, download_note: str) -> str:
    """Every way to provide ``spec``, for the error shown when no source works."""
    explicit = data_dir or os.environ.get(DATA_DIR_ENV)
    idx = ", ".join(f"{stem}.gz" for stem in IDX_NAMES.values())
    files = " or ".join(filter(None, (spec.npz_name, idx if spec.idx_known else None)))
    ways = [
        f"a folder of your own, given as --data-dir DIR or {DATA_DIR_ENV}=DIR, holding {files}"
        + (f" (now: {explicit}, which has none)" if explicit else "")
    ]
    if spec.name == "mnist_sample":
        ways.append(f"the grader's data home {data_home() / 'datasets'}: {spec.provision_hint}")
    if spec.keras_cache_folder is not None:
        moves = "KERAS_HOME moves it" if _keras_major() >= 3 else "Keras 2 always uses ~/.keras"
        ways.append(f"the Keras cache {keras_cache() / spec.keras_cache_folder} ({moves})")
    ways += [f"the system folder {folder}: {spec.provision_hint}" for folder in spec.system_dirs]
    if spec.keras_loader:
        ways.append(f"the Keras download, when online: {download_note}")
    lines = [f"No copy of {spec.title} ({spec.name}) was found. Ways to provide it:"]
    lines += [f"  {number}. {way}" for number, way in enumerate(ways, 1)]
    if spec.name == "mnist":
        lines.append(f"  Full MNIST {spec.provision_hint}; offline, use fashion_mnist or mnist_sample.")
    return "\n".join(lines)
