"""The variant registry: what it lists, in which order, and what it refuses to register (what a variant must be on
its own is checked where it is defined: tests/test_variant_base.py)."""

import pytest

from gan_core.spec import registry
from gan_core.spec.settings import Setting, SettingError
from gan_core.variants.gan import GAN


class Sketch(GAN):
    """The GAN under another name, with a setting and a preset of its own: enough for the registry, which never
    trains."""

    name = "sketch"
    title = "Sketch"
    summary = "A variant of this test's own."
    settings = (Setting("sketchiness", float, "Sketchiness", "How sketchy.", default=0.5, minimum=0.0, maximum=1.0),)
    presets = {"digits-sketch": dict(name="Digits sketch", dataset="digits", variant="sketch", architecture="mlp")}


@pytest.fixture
def sketch():
    variant = Sketch()
    registry.add(variant)
    yield variant
    registry.remove(variant.name)


def test_the_built_in_variants_are_listed_in_the_train_forms_order_with_the_plain_gan_first():
    assert registry.names() == ("gan", "infogan", "acgan", "began", "vae", "vaegan", "pix2pix", "cyclegan")
    assert registry.DEFAULT_VARIANT == registry.names()[0]
    assert [variant.name for variant in registry.all_variants()] == list(registry.names())


def test_an_unknown_variant_is_refused_with_the_ones_that_exist():
    with pytest.raises(SettingError, match="variant='sketch' is not allowed; variant must be one of gan, infogan"):
        registry.get("sketch")


def test_presets_are_read_from_the_variants_when_asked(sketch):
    presets = registry.presets()
    assert list(presets)[0] == "fashion-dcgan" and "mnist-infogan" in presets
    assert presets["digits-sketch"]["variant"] == "sketch"
    registry.remove("sketch")
    assert "digits-sketch" not in registry.presets()


def test_a_taken_name_or_setting_is_refused(sketch):
    with pytest.raises(ValueError, match="a variant named 'sketch' is registered already"):
        registry.add(Sketch())

    class Copycat(Sketch):
        name = "copycat"

    with pytest.raises(ValueError, match="setting 'sketchiness' of variant 'copycat' is already a setting of 'sketch'"):
        registry.add(Copycat())
    assert "copycat" not in registry.names()
