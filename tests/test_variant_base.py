"""The variant interface itself: the hooks a new variant must write, the Translator capability and where it is
checked, and Networks, whose names are the checkpoint names saved runs hold."""

import pytest

from gan_core.spec import registry
from gan_core.spec.config import preset
from gan_core.variants.base import Networks, Translator, Variant, translator
from gan_core.variants.gan import GAN


class Bare(Variant):
    """A variant that declares what it is and writes nothing."""

    name = "bare"
    title = "Bare"
    summary = "A variant of this test's own."


class Mirror(GAN):
    """A GAN that claims to translate images, with everything a Translator needs."""

    name = "mirror"
    draws_from_noise = False

    def input_shape(self, config):
        return 8, 8, 1

    def expected_input(self, config):
        return "any image"

    def translate(self, run, step, image_bytes):
        return []


def test_a_new_variant_must_write_its_training_its_generator_and_its_charts():
    with pytest.raises(TypeError, match="abstract methods build_generator, build_training, charts"):
        Bare()


def test_a_variant_that_does_not_draw_from_noise_is_refused_when_defined_unless_it_translates():
    with pytest.raises(TypeError, match="variant class Silent does not draw from noise, so it must translate images"):
        class Silent(GAN):
            draws_from_noise = False

    with pytest.raises(TypeError, match="variant class HalfMirror does not draw from noise"):
        class HalfMirror(GAN):
            draws_from_noise = False

            def translate(self, run, step, image_bytes):
                return []

    assert isinstance(Mirror(), Translator)


def test_translator_answers_whether_a_variant_translates_images():
    assert translator(Mirror()) is not None
    assert translator(GAN()) is None
    translating = {variant.name for variant in registry.all_variants() if translator(variant) is not None}
    assert translating == {"pix2pix", "cyclegan"}


class Stand:
    """A stand-in network: Networks only holds and names them."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


def test_networks_name_each_network_as_the_checkpoint_does():
    generator, discriminator, encoder = Stand("generator"), Stand("discriminator"), Stand("encoder")
    assert dict(Networks(generator)) == {"generator": generator}
    networks = Networks(generator, discriminator, {"encoder": encoder})
    assert list(networks) == ["generator", "discriminator", "encoder"] and len(networks) == 3
    assert networks["encoder"] is encoder and networks.by_checkpoint_name() == dict(networks)
    assert (lambda **named: named)(**networks) == {"generator": generator, "discriminator": discriminator,
                                                  "encoder": encoder}, "restore_network takes them as keywords"
    with pytest.raises(ValueError, match=r"networks named \['discriminator'\] are fields of Networks"):
        dict(Networks(generator, discriminator, {"discriminator": encoder}))


def test_a_grid_is_drawn_with_the_averaged_generator_in_place_of_the_trained_one():
    trained, averaged, generator_ba = Stand("trained"), Stand("averaged"), Stand("generator_ba")
    networks = Networks(trained, others={"generator_ba": generator_ba})
    drawn = networks.with_generator(averaged)
    assert dict(drawn) == {"generator": averaged, "generator_ba": generator_ba}
    assert networks.generator is trained, "the training's own networks are left as they were"


# What the checkpoints of runs saved so far hold besides "generator_ema" and "step": renaming any of these would
# leave those runs unable to resume or to be sampled.
CHECKPOINT_NAMES = {
    "mnist-dcgan": ({"generator", "discriminator"}, {"g_optimizer", "d_optimizer"}, set()),
    "mnist-infogan": ({"generator", "discriminator", "q_head"}, {"g_optimizer", "d_optimizer"}, set()),
    "mnist-acgan": ({"generator", "discriminator", "class_head"}, {"g_optimizer", "d_optimizer"}, set()),
    "mnist-began": ({"generator", "discriminator"}, {"g_optimizer", "d_optimizer"}, {"k_t"}),
    "fashion-vae": ({"generator", "encoder"}, {"e_optimizer", "g_optimizer"}, set()),
    "fashion-vaegan": ({"generator", "encoder", "discriminator"}, {"e_optimizer", "g_optimizer", "d_optimizer"},
                       set()),
    "fashion-edges2img": ({"generator", "discriminator"}, {"g_optimizer", "d_optimizer"},
                          {"generator_dropout_seed_0"}),
    "mnist2inverted-cyclegan": ({"generator", "generator_ba", "discriminator_a", "discriminator_b"},
                                {"g_optimizer", "d_optimizer"},
                                {"pool_a_images", "pool_a_filled", "pool_b_images", "pool_b_filled"}),
}


@pytest.mark.parametrize("preset_name", CHECKPOINT_NAMES)
def test_every_variant_saves_its_networks_optimizers_and_state_under_the_names_saved_runs_hold(preset_name):
    config = preset(preset_name, dataset="digits", width=8)
    training = registry.of(config).build_training(config, 10 if config.variant == "acgan" else 0)
    assert (set(training.networks), set(training.optimizers), set(training.state)) == CHECKPOINT_NAMES[preset_name]
    assert training.networks.generator is training.networks["generator"]
