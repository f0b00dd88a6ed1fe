"""FLOP counts checked by hand for two references."""

import reference
from benchmarks.flops import forward_flops_per_image, training_flops_per_image


def test_adadelta_reference_flops_by_hand():
    model = reference.load("004").build_model()
    conv1 = 2 * (3 * 3 * 1 * 32) * 26 * 26
    conv2 = 2 * (3 * 3 * 32 * 64) * 24 * 24
    dense = 2 * (9216 * 128) + 2 * (128 * 10)
    assert forward_flops_per_image(model) == conv1 + conv2 + dense
    assert training_flops_per_image(model) == 3 * (conv1 + conv2 + dense)


def test_dense_on_feature_maps_counts_every_position():
    import keras

    model = keras.Sequential([keras.Input((7, 7, 64)), keras.layers.Dense(128)])
    assert forward_flops_per_image(model) == 2 * 64 * 128 * 49
