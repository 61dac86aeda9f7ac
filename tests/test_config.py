import dataclasses
import json

import pytest

from gan_core.spec import registry
from gan_core.spec.config import (RunConfig, coerce_field, descriptive_name, parse_assignment, preset,
                                  settings_in_words, unused_fields)


def test_defaults_are_the_classic_dcgan_recipe():
    config = RunConfig()
    assert (config.dataset, config.architecture, config.loss) == ("fashion_mnist", "dcgan", "non_saturating")
    assert (config.g_learning_rate, config.g_beta_1, config.batch_size) == (2e-4, 0.5, 64)
    assert config.data_shape == (28, 28, 1)


@pytest.mark.parametrize("name", sorted(registry.presets()))
def test_every_preset_is_valid_and_round_trips_through_json(name):
    config = preset(name)
    assert RunConfig.from_json(config.to_json()) == config


def test_required_presets_exist():
    required = {"fashion-dcgan", "mnist-dcgan", "mnist-cgan", "fashion-wgan-gp", "digits-mlp", "ring-mlp"}
    assert required <= set(registry.presets())
    assert preset("mnist-cgan").conditional
    assert preset("fashion-wgan-gp").loss == "wgan_gp"
    assert preset("ring-mlp").data_shape == (2,)
    assert preset("digits-mlp").data_shape == (8, 8, 1)


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        RunConfig().batch_size = 3


@pytest.mark.parametrize(
    "field, value, allowed",
    [
        ("dataset", "imagenet", "one of mnist, fashion_mnist"),
        ("architecture", "stylegan", "one of mlp, dcgan"),
        ("loss", "l1", "one of non_saturating, minimax, wgan_gp, lsgan, hinge"),
        ("image_size", 30, "a multiple of 4 from 8 to 64"),
        ("image_size", 128, "a multiple of 4 from 8 to 64"),
        ("channels", 2, "1 (grey) or 3 (RGB)"),
        ("batch_size", 0, "from 1 to 4096"),
        ("g_learning_rate", 0.0, "greater than 0"),
        ("d_learning_rate", float("nan"), "a finite number"),
        ("d_beta_1", 1.0, "from 0 up to (not including) 1"),
        ("n_critic", 0, "from 1 to 100"),
        ("steps", -5, "from 1 to 10,000,000"),
        ("sample_every", 0, "at least 1 step"),
        ("latent_dim", 3.5, "a whole number"),
        ("conditional", "yes", "true or false"),
    ],
)
def test_bad_values_name_the_field_the_value_and_what_is_allowed(field, value, allowed):
    with pytest.raises(ValueError) as error:
        RunConfig(**{field: value})
    message = str(error.value)
    assert message.startswith(f"{field}={value!r}")
    assert allowed in message


def test_point_sets_need_the_mlp_and_no_labels():
    with pytest.raises(ValueError, match="architecture='dcgan'.*'mlp' for the 2-D point sets"):
        RunConfig(dataset="ring")
    with pytest.raises(ValueError, match="conditional=True"):
        RunConfig(dataset="ring", architecture="mlp", conditional=True)


def test_folder_dataset_needs_a_path_and_other_datasets_refuse_one():
    with pytest.raises(ValueError, match="data_path"):
        RunConfig(dataset="folder")
    with pytest.raises(ValueError, match="data_path"):
        RunConfig(dataset="mnist", data_path="/tmp/images")
    assert RunConfig(dataset="folder", data_path="/tmp/images").data_shape == (32, 32, 3)


def test_from_dict_rejects_unknown_fields_and_converts_text():
    with pytest.raises(ValueError, match="unknown config field.*batchsize"):
        RunConfig.from_dict({"batchsize": 3})
    assert RunConfig.from_dict({"batch_size": "128", "conditional": "false"}).batch_size == 128


def test_from_json_rejects_non_objects_and_broken_text():
    with pytest.raises(ValueError, match="not valid JSON"):
        RunConfig.from_json("{")
    with pytest.raises(ValueError, match="must be an object"):
        RunConfig.from_json(json.dumps([1, 2]))


def test_command_line_assignments_are_typed():
    assert parse_assignment("batch_size=128") == ("batch_size", 128)
    assert parse_assignment("g_learning_rate=1e-4") == ("g_learning_rate", 1e-4)
    assert parse_assignment("conditional=true") == ("conditional", True)
    assert parse_assignment("loss=hinge") == ("loss", "hinge")
    with pytest.raises(ValueError, match="key=value"):
        parse_assignment("batch_size")
    with pytest.raises(ValueError, match="batch_size='many' must be a whole number"):
        parse_assignment("batch_size=many")
    with pytest.raises(ValueError, match="whole number"):
        coerce_field("steps", 2.5)


def test_preset_overrides_are_validated_and_unknown_presets_listed():
    assert preset("digits-mlp", steps=10).steps == 10
    with pytest.raises(ValueError, match="preset 'nope' does not exist; choose one of fashion-dcgan"):
        preset("nope")
    with pytest.raises(ValueError, match="loss='wasserstein'"):
        preset("digits-mlp", loss="wasserstein")


def test_fields_are_unused_where_a_setting_ignores_them():
    assert "gp_weight" in unused_fields({"variant": "gan", "loss": "hinge", "dataset": "mnist"})
    assert "gp_weight" not in unused_fields({"variant": "gan", "loss": "wgan_gp", "dataset": "mnist"})
    assert "n_critic" not in unused_fields({"variant": "gan", "loss": "hinge", "dataset": "mnist"})
    # A variant without the loss setting has no penalty either, whatever loss the values still hold.
    began = unused_fields({"variant": "began", "loss": "wgan_gp", "dataset": "mnist"})
    assert {"loss", "gp_weight"} <= set(began) and len(began) == len(set(began))
    assert {"image_size", "channels"} <= set(unused_fields({"variant": "gan", "loss": "hinge", "dataset": "ring"}))
    assert "image_size" not in unused_fields({"variant": "gan", "loss": "hinge", "dataset": "cifar10"})


def test_a_run_is_described_by_the_settings_its_variant_reads():
    gan = preset("fashion-dcgan").to_dict()
    assert settings_in_words(gan) == {"dataset": "fashion_mnist", "variant": "gan", "architecture": "dcgan",
                                      "loss": "hinge"}
    assert descriptive_name(gan) == "Fashion-MNIST DCGAN, hinge loss"
    conditional = preset("mnist-cgan").to_dict()
    assert list(settings_in_words(conditional).values()) == ["mnist", "gan", "dcgan", "hinge", "conditional"]
    assert descriptive_name(conditional) == "MNIST conditional DCGAN, hinge loss"
    # A VAE reads the architecture (its encoder and decoder follow it) but has no adversarial loss.
    vae = {**preset("fashion-vae").to_dict(), "loss": "hinge"}
    assert settings_in_words(vae) == {"dataset": "fashion_mnist", "variant": "vae", "architecture": "dcgan"}
    assert descriptive_name(vae) == "Fashion-MNIST VAE"
    assert descriptive_name({**vae, "dataset": "digits", "architecture": "mlp"}) == "Digits MLP VAE"
    # Pix2Pix has a U-Net of its own and one loss, and takes no class labels, whatever the values still hold.
    pix2pix = {**preset("fashion-edges2img").to_dict(), "conditional": True}
    assert settings_in_words(pix2pix) == {"dataset": "fashion_mnist", "variant": "pix2pix"}
    assert descriptive_name(pix2pix) == "Fashion-MNIST Pix2Pix"
