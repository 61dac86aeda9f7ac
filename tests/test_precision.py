"""bfloat16 training: which processors have it, the float32 fall-back elsewhere, and a GAN run computed in it (its
hidden layers in bfloat16, its outputs and weights in float32, its checkpoint read back by the float32 sampler)."""

import keras
import numpy as np
import pytest

from gan_core.nets import precision, sampling
from gan_core.spec.config import preset
from gan_core.store.runs import create_run
from gan_core.spec.settings import SettingError
from gan_core.training.trainer import Trainer

ZEN4_CPU_INFO = """processor\t: 0
vendor_id\t: AuthenticAMD
flags\t\t: fpu vme sse2 avx2 avx512f avx512_bf16 avx512_vnni
"""
OLD_CPU_INFO = """processor\t: 0
flags\t\t: fpu vme sse2 avx2 avx512f
"""
ARM_CPU_INFO = """processor\t: 0
Features\t: fp asimd sve bf16 i8mm
"""


def test_the_processors_flags_say_whether_it_has_bfloat16():
    assert precision.cpu_flags(OLD_CPU_INFO) == {"fpu", "vme", "sse2", "avx2", "avx512f"}
    assert precision.cpu_has_bfloat16(ZEN4_CPU_INFO)
    assert precision.cpu_has_bfloat16(ARM_CPU_INFO)
    assert not precision.cpu_has_bfloat16(OLD_CPU_INFO)
    assert not precision.cpu_has_bfloat16("")


def test_bfloat16_falls_back_to_float32_with_a_note_where_the_processor_lacks_it():
    assert precision.precision_to_use("bfloat16", ZEN4_CPU_INFO) == ("bfloat16", "")
    chosen, note = precision.precision_to_use("bfloat16", OLD_CPU_INFO)
    assert chosen == "float32" and "no bfloat16 instructions" in note and "training in float32" in note
    assert precision.precision_to_use("float32", OLD_CPU_INFO) == ("float32", "")
    with pytest.raises(ValueError, match="allowed: float32, bfloat16"):
        precision.precision_to_use("float16")


def test_the_setting_is_checked():
    assert preset("fashion-dcgan", precision="bfloat16").precision == "bfloat16"
    with pytest.raises(SettingError, match="precision"):
        preset("fashion-dcgan", precision="half")


def test_the_keras_policy_is_restored_after_building():
    before = keras.mixed_precision.global_policy().name
    with precision.computing_in("bfloat16"):
        layer = keras.layers.Dense(2)
    assert layer.compute_dtype == "bfloat16" and layer.variable_dtype == "float32"
    assert keras.mixed_precision.global_policy().name == before


@pytest.mark.skipif(not precision.cpu_has_bfloat16(), reason="this processor has no bfloat16 instructions")
@pytest.mark.slow
def test_a_run_in_bfloat16_trains_with_float32_weights_and_outputs_and_samples_in_float32(tmp_path):
    config = preset("fashion-dcgan", width=8, batch_size=16, steps=4, log_every=1, sample_every=100,
                    checkpoint_every=100, max_examples=256, precision="bfloat16")
    run = create_run(config, tmp_path)
    trainer = Trainer(run)
    discriminator = trainer.training.networks["discriminator"]
    hidden = discriminator.get_layer("d_downsample_1")
    assert hidden.compute_dtype == "bfloat16" and hidden.kernel.dtype == "float32"
    assert discriminator.get_layer("d_logits").compute_dtype == "float32"
    assert trainer.generator.get_layer("g_image").compute_dtype == "float32"
    assert trainer.train() == "finished"
    rows = run.metrics_since()
    assert len(rows) == 4 and all(np.isfinite([row["d_loss"], row["g_loss"]]).all() for row in rows)
    sampler = sampling.load_generator(run)
    assert sampler.get_layer("g_upsample_1").compute_dtype == "float32", "pages sample in float32"
    samples = sampling.generate(sampler, sampling.latent_vectors(config, 8, seed=1))
    assert samples.shape == (8, 28, 28, 1) and samples.std() > 0
    float32_rows = create_run(config.replace(precision="float32"), tmp_path)
    Trainer(float32_rows).train()
    assert float32_rows.metrics_since()[0]["d_loss"] != rows[0]["d_loss"], "the bfloat16 run computed in float32"
