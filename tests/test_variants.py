"""A variant is added by registering it: the trainer, the sampler, the CLI's evaluation and every page then handle it.

The variant here is registered by the test alone (nothing else in the project names it), so whatever it shows
proves that the engine and pages ask the variant instead of knowing it.
"""

import math

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from gan_core.measuring import evaluation
from gan_core.spec import registry
from gan_core.nets import sampling
from gan_core.spec.config import RunConfig, preset
from gan_core.measuring.measures import Measure
from gan_core.store.runs import create_run
from gan_core.spec.settings import Setting, SettingError
from gan_core.training.trainer import Trainer
from gan_core.variants.base import Chart, Networks, Picture, Series, Training, Variant, View
from support.pages import APP, texts

pytestmark = pytest.mark.slow


class MeanMatchingTraining(Training):
    """A generator pulled towards the mean real example: no discriminator, one loss, easy to check."""

    def __init__(self, config, num_classes):
        import tensorflow as tf

        super().__init__(config, num_classes)
        generator = registry.get("gan").build_generator(config, num_classes)
        self.networks = Networks(generator)
        self.adam("g_optimizer", config.g_learning_rate, config.g_beta_1, config.g_beta_2,
                  generator.trainable_variables)
        self.pull = tf.Variable(config.mean_pull, trainable=False, dtype=tf.float32, name="pull")
        self.state = {"pull": self.pull}

    def step(self, batch, step):
        import tensorflow as tf

        generator = self.networks.generator
        latent = batch.noise(0, [self.config.batch_size, self.config.latent_dim])
        with tf.GradientTape() as tape:
            fake = generator(latent, training=True)
            distance = tf.reduce_mean(tf.square(tf.reduce_mean(fake, 0) - tf.reduce_mean(batch.real(0), 0)))
            loss = self.pull * distance / batch.replicas
        gradients = tape.gradient(loss, generator.trainable_variables)
        self.optimizers["g_optimizer"].apply_gradients(zip(gradients, generator.trainable_variables))
        return {"mean_distance": distance / batch.replicas}


def draw_mean_picture(run, step, seed):
    images = sampling.sample(run, 16, seed=seed, step=step)
    return [Picture(images.mean(axis=0).astype(np.uint8), f"the mean of 16 samples at step {step}")]


class MeanMatching(Variant):
    name = "mean_matching"
    title = "Mean matcher"
    summary = "A generator trained to match the mean real example (a test of the variant plug-in)."
    settings = (Setting("mean_pull", float, "Pull", "How hard the mean is pulled.", default=1.0, minimum=0.1,
                        maximum=10.0),)
    unused_fields = ("loss", "n_critic", "gp_weight", "conditional")
    presets = {"digits-mean-matching": dict(name="Digits mean matcher", dataset="digits", architecture="mlp",
                                             width=16, latent_dim=8, variant="mean_matching", steps=6)}
    measures = (Measure("mean_pixel_gap", "Mean absolute gap between the mean generated and mean real pixel.",
                        label="Mean pixel gap", better="lower", reference="mean_pixel_gap_real"),)

    def build_training(self, config, num_classes):
        return MeanMatchingTraining(config, num_classes)

    def build_generator(self, config, num_classes):
        return registry.get("gan").build_generator(config, num_classes)

    def charts(self, config):
        return [Chart("Distance to the real mean", "squared distance", (Series("mean distance", "mean_distance"),))]

    def views(self):
        return (View("mean_picture", "Mean sample", "The average of sixteen samples.", "gallery", draw_mean_picture),)

    def evaluate(self, run, step, sample_count, seed):
        generated = sampling.sample(run, 64, seed=seed, step=step).astype(np.float64)
        real, _ = evaluation.draw_examples(evaluation.held_out_dataset(run.config, training_if_missing=True)[0],
                                           64, seed)
        return {"mean_pixel_gap": float(np.abs(generated.mean(0) - real.astype(np.float64).mean(0)).mean())}


@pytest.fixture
def registered():
    variant = MeanMatching()
    registry.add(variant)  # its presets come with it: the registry is asked for them
    yield variant
    registry.remove(variant.name)


def quick(**overrides):
    return preset("digits-mean-matching", batch_size=16, log_every=2, sample_every=3, checkpoint_every=3,
                  max_examples=256, **overrides)


def test_a_registered_variant_has_its_settings_validated_and_written_flat(registered):
    config = quick(mean_pull=2.5)
    assert config.variant == "mean_matching" and config.mean_pull == 2.5
    assert '"mean_pull": 2.5' in config.to_json()
    assert RunConfig.from_json(config.to_json()) == config
    assert quick().mean_pull == 1.0, "a setting not given gets the variant's default"
    with pytest.raises(SettingError, match=r"mean_pull=50.0 is not allowed; mean_pull must be from 0.1 to 10") as error:
        quick(mean_pull=50)
    assert error.value.field == "mean_pull"
    with pytest.raises(ValueError, match=r"mean_pull \(a setting of variant 'mean_matching'\) cannot be used"):
        preset("digits-mlp", mean_pull=1.0)


def test_a_registered_variant_trains_resumes_exactly_samples_and_evaluates(tmp_path, registered):
    straight = create_run(quick(steps=6), tmp_path)
    assert Trainer(straight).train() == "finished"
    rows = straight.metrics_since()
    assert [row["step"] for row in rows] == [2, 4, 6]
    assert all(math.isfinite(row["mean_distance"]) for row in rows)
    assert rows[-1]["mean_distance"] < rows[0]["mean_distance"], "the generator moves towards the real mean"
    assert straight.checkpoint_steps() == [3, 6] and straight.sample_steps() == [0, 3, 6]

    interrupted = create_run(quick(steps=6), tmp_path)
    Trainer(interrupted).train(target_step=4)
    Trainer(interrupted).train()
    assert [row["mean_distance"] for row in interrupted.metrics_since()] == [row["mean_distance"] for row in rows]
    np.testing.assert_array_equal(sampling.sample(straight, 8), sampling.sample(interrupted, 8))

    results = evaluation.evaluate_run(straight, 100, kind="auto")
    assert 0 <= results["mean_pixel_gap"] < 255


def test_the_pages_show_a_registered_variants_form_fields_charts_and_views(tmp_path, monkeypatch, registered):
    run = create_run(quick(steps=3), tmp_path)
    Trainer(run).train()
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))

    app = AppTest.from_file(str(APP), default_timeout=60).run()
    app.switch_page("pages/train.py").run()
    app.selectbox(key="train_preset").set_value("digits-mean-matching").run()
    assert app.selectbox(key="field_variant").value == "mean_matching"
    assert app.number_input(key="field_mean_pull").value == 1.0
    assert "Mean matcher settings" in texts(app)
    assert not [box for box in app.selectbox if box.key == "field_loss"], "a field the variant does not use is hidden"
    app.number_input(key="field_mean_pull").set_value(50.0)
    app.button(key="train_check").click().run()
    assert any(error.value.startswith("mean_pull=50.0 is not allowed") for error in app.error)

    app.query_params["run"] = run.run_id
    app.switch_page("pages/monitor.py").run()
    assert not app.exception
    figure = app.get("plotly_chart")[0].proto.spec
    assert "Distance to the real mean" in figure and "mean distance" in figure

    app.switch_page("pages/gallery.py").run()
    assert not app.exception
    assert "Mean sample" in texts(app)
    assert "the mean of 16 samples at step 3" in [caption for image in app.image for caption in image.captions]


def test_the_metrics_table_lists_a_variants_measures_one_row_per_number(tmp_path, registered):
    from views.variant_views import variant_measure_rows

    run = create_run(quick(), tmp_path)
    assert [row["Measure"] for row in variant_measure_rows(run, {"mean_pixel_gap": 3.5, "other": 1.0})] == \
        ["Mean pixel gap"]
    [row] = variant_measure_rows(run, {"mean_pixel_gap": 3.5, "mean_pixel_gap_real": 0.25})
    assert (row["This checkpoint"], row["Real vs real"], row["Better"]) == ("3.5", "0.25", "lower")
    rows = variant_measure_rows(run, {"mean_pixel_gap": {"generated": 0.5, "real_plus_generated": 0.75, "n": None}})
    assert [(row["Measure"], row["This checkpoint"]) for row in rows] == \
        [("Mean pixel gap, generated", "0.5"), ("Mean pixel gap, real plus generated", "0.75")]
    assert variant_measure_rows(run, {"mean_pixel_gap": [1.0, 2.0]}) == []
