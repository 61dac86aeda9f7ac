"""The registry of GAN variants: adding one is its module, its tests and one line below."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gan_core.settings import SettingError
from gan_core.variants import acgan, began, cyclegan, gan, infogan, pix2pix, vae, vaegan
from gan_core.variants.base import Registry, Variant

if TYPE_CHECKING:
    from gan_core.config import RunConfig

DEFAULT_VARIANT = "gan"

REGISTRY = Registry()
REGISTRY.add(gan.GAN())
REGISTRY.add(infogan.InfoGAN())
REGISTRY.add(acgan.ACGAN())
REGISTRY.add(began.BEGAN())
REGISTRY.add(vae.VAE())
REGISTRY.add(vaegan.VAEGAN())
REGISTRY.add(pix2pix.Pix2Pix())
REGISTRY.add(cyclegan.CycleGAN())


def names() -> tuple[str, ...]:
    return tuple(REGISTRY.variants)


def get(name: str) -> Variant:
    """The variant called `name`; ValueError naming the registered ones otherwise."""
    if name not in REGISTRY.variants:
        raise SettingError("variant", f"variant={name!r} is not allowed; variant must be one of "
                                      f"{', '.join(REGISTRY.variants)}")
    return REGISTRY.variants[name]


def of(config: RunConfig) -> Variant:
    return get(config.variant)
