"""A fixed batch, the same at every call: 8x8 one-channel examples, labels and noise from fixed seeds, to run one
training step on known inputs and compare what different settings or networks make of it."""

from __future__ import annotations

import tensorflow as tf

from gan_core.variants.base import Batch

BATCH = 8


def fixed_batch() -> Batch:
    real = tf.random.stateless_uniform([BATCH, 8, 8, 1], seed=[1, 2], minval=-1.0, maxval=1.0)

    def noise(offset, shape, uniform=False):
        return tf.random.stateless_normal(shape, seed=[7, offset])

    return Batch(real=lambda iteration: real, labels=lambda iteration: tf.zeros([BATCH], tf.int32), noise=noise,
                 replicas=1, size=BATCH)
