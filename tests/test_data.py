"""Loading real datasets from every kind of source, and refusing bad copies with clear words."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader.data import DataError, load_dataset, prepare
from grader.data import catalog as catalog_module
from grader.data.catalog import FASHION_MNIST, IDX_NAMES
from grader.data.formats import read_idx, write_npz
from grader.data.provision import digits_from_json, sample_path
from grader.data.sources import keras_cache


def _copy_fashion(source: Path, target: Path, *, decompress: bool = False) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for stem in IDX_NAMES.values():
        if decompress:
            (target / stem).write_bytes(gzip.decompress((source / f"{stem}.gz").read_bytes()))
        else:
            shutil.copy(source / f"{stem}.gz", target / f"{stem}.gz")
    return target


def test_fashion_from_the_system_folder(fashion_dir, isolated_sources):
    data = load_dataset("fashion_mnist")
    assert data.source.kind == "system"
    assert data.source.verification == "checksum"
    (x_train, y_train), (x_test, y_test) = data
    assert x_train.shape == (60_000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10_000, 28, 28) and y_test.shape == (10_000,)
    assert np.bincount(y_train).tolist() == [6000] * 10


def test_keras_cache_comes_before_the_system_folder(fashion_dir, isolated_sources):
    _copy_fashion(fashion_dir, isolated_sources / "keras" / "datasets" / "fashion-mnist")
    data = load_dataset("fashion_mnist")
    assert data.source.kind == "keras-cache"


@pytest.mark.matrix
def test_keras_reads_the_same_arrays_from_its_cache(fashion_dir, isolated_sources):
    """Keras's own loader, pointed at the same cache, sees exactly our arrays (a fresh process:
    Keras 3 reads KERAS_HOME when it is imported)."""
    _copy_fashion(fashion_dir, isolated_sources / "keras" / "datasets" / "fashion-mnist")
    script = (
        "import hashlib\n"
        "from keras.datasets import fashion_mnist\n"  # Keras 2.12 has no lazy keras.datasets
        "(a, b), (c, d) = fashion_mnist.load_data()\n"
        "print(hashlib.sha256(a.tobytes() + b.tobytes() + c.tobytes() + d.tobytes()).hexdigest())\n"
    )
    theirs = subprocess.run(  # inherits KERAS_HOME and HOME as the fixture set them
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    ours = load_dataset("fashion_mnist")
    digest = hashlib.sha256(b"".join(array.tobytes() for pair in ours for array in pair)).hexdigest()
    assert theirs.stdout.split()[-1] == digest


def test_explicit_directory_wins_and_recompressed_files_match_by_content(
    fashion_dir, isolated_sources, monkeypatch
):
    _copy_fashion(fashion_dir, isolated_sources / "keras" / "datasets" / "fashion-mnist")
    raw = _copy_fashion(fashion_dir, isolated_sources / "mine" / "fashion-mnist", decompress=True)
    data = load_dataset("fashion_mnist", data_dir=isolated_sources / "mine")
    assert data.source.kind == "explicit" and data.source.path == raw
    assert data.source.verification == "decoded-checksum"
    monkeypatch.setenv("GRADER_DATA_DIR", str(isolated_sources / "mine"))
    assert load_dataset("fashion_mnist").source.kind == "explicit"


def test_sample_loads_from_the_data_home_and_is_stratified(sample):
    assert sample.source.kind in {"data-home", "explicit"}
    assert sample.source.verification == "decoded-checksum"
    assert sample.x_train.shape == (8000, 28, 28) and sample.x_test.shape == (2000, 28, 28)
    train_share = np.bincount(sample.y_train) / np.bincount(np.concatenate([sample.y_train, sample.y_test]))
    assert np.allclose(train_share, 0.8, atol=0.002)
    assert len(set(sample.y_train[-1600:])) == 10  # a validation_split tail sees every class


def test_the_sample_is_refused_where_full_mnist_is_expected(sample, isolated_sources):
    write_npz(
        isolated_sources / "mine" / "mnist.npz",
        {key: getattr(sample, key) for key in ("x_train", "y_train", "x_test", "y_test")},
    )
    with pytest.raises(DataError, match=r"is not MNIST handwritten digits: it is the file for mnist_sample"):
        load_dataset("mnist", data_dir=isolated_sources / "mine")


def test_fashion_files_are_refused_as_mnist(fashion_dir, isolated_sources):
    _copy_fashion(fashion_dir, isolated_sources / "mine")
    with pytest.raises(DataError, match=r"not MNIST handwritten digits: it is the file for fashion_mnist"):
        load_dataset("mnist", data_dir=isolated_sources / "mine")


def test_a_truncated_gzip_is_refused(fashion_dir, isolated_sources):
    folder = _copy_fashion(fashion_dir, isolated_sources / "mine")
    target = folder / "t10k-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:100_000])
    with pytest.raises(DataError, match="truncated"):
        load_dataset("fashion_mnist", data_dir=folder)


def test_a_truncated_idx_payload_is_refused(fashion_dir, tmp_path):
    raw = gzip.decompress((fashion_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(raw[:-10])
    with pytest.raises(DataError, match="header promises 10,000"):
        read_idx(tmp_path / "t10k-labels-idx1-ubyte")


def test_one_altered_pixel_is_refused(fashion_dir, isolated_sources):
    folder = _copy_fashion(fashion_dir, isolated_sources / "mine", decompress=True)
    images = bytearray((folder / "t10k-images-idx3-ubyte").read_bytes())
    images[5000] ^= 0xFF
    (folder / "t10k-images-idx3-ubyte").write_bytes(bytes(images))
    with pytest.raises(DataError, match="does not match the known checksums of Fashion-MNIST"):
        load_dataset("fashion_mnist", data_dir=folder)


def test_an_npz_holding_pickled_objects_is_refused(isolated_sources):
    folder = isolated_sources / "mine"
    folder.mkdir()
    np.savez(folder / "mnist-sample.npz", x_train=np.array([object()]), y_train=[], x_test=[], y_test=[])
    with pytest.raises(DataError, match=r"not a readable \.npz"):
        load_dataset("mnist_sample", data_dir=folder)


def test_missing_data_lists_every_way_to_provide_it(isolated_sources, monkeypatch):
    # hide Debian's folder by pointing the spec at an empty one
    monkeypatch.setitem(
        catalog_module.DATASETS,
        "fashion_mnist",
        _replace_system_dirs(FASHION_MNIST, isolated_sources / "none"),
    )
    with pytest.raises(DataError) as caught:
        load_dataset("fashion_mnist", data_dir=isolated_sources / "empty", allow_download=False)
    message = str(caught.value)
    assert "No copy of Fashion-MNIST" in message
    assert "1. a folder of your own, given as --data-dir DIR or GRADER_DATA_DIR=DIR" in message
    assert "(now: " in message and "empty, which has none)" in message
    assert f"2. the Keras cache {keras_cache() / 'fashion-mnist'}" in message  # Keras 2: via ~/.keras
    assert "3. the system folder" in message and "apt-get install dataset-fashion-mnist" in message
    assert "4. the Keras download, when online: not tried (offline)" in message


def test_missing_mnist_says_the_download_failed(isolated_sources):
    with pytest.raises(DataError) as caught:
        load_dataset("mnist", allow_download=True)
    message = str(caught.value)
    assert "3. the Keras download, when online: failed:" in message
    assert "offline, use fashion_mnist or mnist_sample" in message


def test_missing_sample_names_the_provisioning_command(isolated_sources):
    with pytest.raises(DataError, match=r"grader data provision"):
        load_dataset("mnist_sample")


def test_unknown_dataset_name():
    with pytest.raises(DataError, match="unknown dataset 'cifar10'"):
        load_dataset("cifar10")


def test_json_digits_must_be_grey_levels():
    good = digits_from_json([round(k / 255, 3) for k in range(256)] + [0.0] * (784 - 256), 3)
    assert good.shape == (1, 28, 28) and good.reshape(-1)[:256].tolist() == list(range(256))
    with pytest.raises(DataError, match="not grey levels"):
        digits_from_json([0.5004] + [0.0] * 783, 3)
    with pytest.raises(DataError, match="whole number of 28x28 images"):
        digits_from_json([0.0] * 100, 3)


def test_sample_path_is_not_where_keras_looks_for_mnist():
    assert sample_path().name == "mnist-sample.npz"
    assert ".keras" not in sample_path().parts


def test_prepare_matches_the_tutorials_preprocessing(sample):
    x, y = prepare(sample.x_test[:5], sample.y_test[:5])
    assert x.shape == (5, 28, 28, 1) and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert np.array_equal(y.argmax(axis=1), sample.y_test[:5]) and y.sum() == 5


def _replace_system_dirs(spec, folder):
    from dataclasses import replace

    return replace(spec, system_dirs=(folder,))
