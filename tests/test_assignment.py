"""The shipped assignment files, and the messages a broken assignment file gets."""

from __future__ import annotations

import pytest

from grader.assignment import ASSIGNMENTS_DIR, AssignmentError, available, load_assignment
from reference import REFERENCES

GOOD = """
title = "A test assignment"
reference = "000"
dataset = "mnist_sample"

[training]
max_epochs = 2
time_limit_s = 60

[[checks]]
kind = "parameters"
points = 2
maximum = 500_000
"""


def test_one_shipped_assignment_per_reference():
    assert available() == sorted(REFERENCES)
    for name in available():
        assignment = load_assignment(name)
        assert assignment.reference == name
        assert assignment.possible == 10
        assert {check.kind for check in assignment.checks} >= {"parameters", "output_shape", "accuracy"}


def test_assignments_resolve_by_tutorial_number_and_by_path():
    assert load_assignment("002").name == "conv5x5_dense1024"
    assert load_assignment(ASSIGNMENTS_DIR / "adadelta_dropout.toml").reference == "adadelta_dropout"


def test_a_valid_file_parses_with_defaults(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(GOOD)
    assignment = load_assignment(path)
    assert (assignment.name, assignment.reference, assignment.training.seed) == ("mine", "conv_32_64_64", 42)
    assert not assignment.train_despite_failures and not assignment.needs_baseline


def test_an_unknown_name_suggests_the_closest():
    with pytest.raises(AssignmentError, match="did you mean 'conv_32_64_64'"):
        load_assignment("conv_32_64")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.replace("reference =", "refrence ="), "unknown key refrence .did you mean reference"),
        (lambda s: s.replace('"000"', '"007"'), "unknown reference '007'"),
        (lambda s: s.replace("mnist_sample", "cifar10"), "dataset must be one of"),
        (
            lambda s: s.replace("max_epochs = 2", "max_epochs = 0"),
            "training.max_epochs must be a whole number of at least 1, not 0",
        ),
        (lambda s: s.replace("max_epochs = 2", ""), "training.max_epochs is required: a whole number"),
        (lambda s: s.replace("time_limit_s = 60", "time_limt_s = 60"), "did you mean training.time_limit_s"),
        (
            lambda s: s.replace("maximum = 500_000", "maximum = 500_000\nexact = 3"),
            "check 1 .parameters.: give exact alone",
        ),
        (lambda s: s + '\n[[checks]]\nkind = "parameters"\npoints = 1\nexact = 3\n', "repeated: parameters"),
        (lambda s: s.split("[[checks]]")[0], "at least one"),
        (lambda s: s.replace("title =", "title = = "), "not valid TOML"),
        (
            lambda s: s.replace("time_limit_s = 60", 'time_limit_s = 60\nprecision = "bfloat16"'),
            "training.precision must be one of float32, mixed_bfloat16, mixed_float16",
        ),
        (lambda s: s + "\n[target]\nvalidation_fraction = 0.1\n", "target.accuracy is required"),
        (lambda s: s + "\n[target]\naccuracy = 97\n", "target.accuracy must be a fraction above 0"),
        (lambda s: s + "\n[training]\n", "not valid TOML"),
        (
            lambda s: s.replace("[training]", "training = 3\n[train]"),
            "unknown key train .did you mean training",
        ),
        (lambda s: s.replace("time_limit_s = 60", "time_limit_s = 60\ncores = 0"), "training.cores must be"),
        (lambda s: s + "\n[limits]\ndisk_mb = -1\n", "limits.disk_mb must be a whole number above 0"),
        (lambda s: s + "\n[target]\naccuracy = 0.9\nvalidation_fraction = 0.5\n", "below 0.5"),
        (lambda s: s + "\n[target]\naccuracy = 0.9\nseeds = [1, 1]\n", "different whole numbers"),
        (lambda s: s + "\n[target]\naccuracy = 0.9\nseed = 3\n", "unknown key target.seed"),
    ],
)
def test_a_broken_file_is_refused_naming_the_file_and_key(tmp_path, change, message):
    path = tmp_path / "broken.toml"
    path.write_text(change(GOOD))
    with pytest.raises(AssignmentError, match=message) as raised:
        load_assignment(path)
    assert str(path) in str(raised.value)


def test_another_dataset_keeps_the_checks():
    assignment = load_assignment("000").with_dataset("fashion_mnist")
    assert assignment.dataset == "fashion_mnist" and assignment.checks == load_assignment("000").checks
    with pytest.raises(AssignmentError, match="dataset must be one of"):
        load_assignment("000").with_dataset("svhn")


def test_precision_and_target_default_to_fixed_epochs_in_float32(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(GOOD)
    assignment = load_assignment(path)
    assert assignment.training.precision == "float32" and assignment.target is None
    path.write_text(GOOD.replace("time_limit_s = 60", 'time_limit_s = 60\nprecision = "mixed_bfloat16"'))
    assert load_assignment(path).training.precision == "mixed_bfloat16"


def test_a_target_table_parses_with_the_assignment_seed_by_default(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(GOOD + "\n[target]\naccuracy = 0.95\n")
    target = load_assignment(path).target
    assert (target.accuracy, target.validation_fraction, target.seeds) == (0.95, 0.1, (42,))
