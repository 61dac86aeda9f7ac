"""The variants the engine can train, by name, in the order the Train form lists them, and which one is the default.

Each variant module adds itself here when it is imported; gan_core/variants/__init__.py imports every one, and
importing gan_core imports that package. So the run configuration, which asks this registry for a variant's
settings and presets, sits below the variants and never imports them: they import it. What a variant must be is
checked where it is defined (gan_core/variants/base.py); the registry checks only what depends on the others: that
its name and its settings' names are its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gan_core.spec.settings import SettingError

if TYPE_CHECKING:
    from gan_core.spec.config import RunConfig
    from gan_core.variants.base import Variant

DEFAULT_VARIANT = "gan"

_variants: dict[str, Variant] = {}


def add(variant: Variant) -> None:
    """Register `variant`; ValueError when its name or one of its settings' names is taken already."""
    if variant.name in _variants:
        raise ValueError(f"a variant named {variant.name!r} is registered already")
    taken = {setting.name: other.name for other in _variants.values() for setting in other.settings}
    for setting in variant.settings:
        if setting.name in taken:
            raise ValueError(f"setting {setting.name!r} of variant {variant.name!r} is already a setting of "
                             f"{taken[setting.name]!r}; give it a name of its own")
    _variants[variant.name] = variant


def remove(name: str) -> None:
    """Forget the variant called `name` (a test's own variant, once the test is done)."""
    _variants.pop(name, None)


def names() -> tuple[str, ...]:
    return tuple(_variants)


def all_variants() -> tuple[Variant, ...]:
    return tuple(_variants.values())


def get(name: str) -> Variant:
    """The variant called `name`; SettingError naming the registered ones otherwise."""
    if name not in _variants:
        raise SettingError("variant", f"variant={name!r} is not allowed; variant must be one of "
                                      f"{', '.join(_variants)}")
    return _variants[name]


def of(config: RunConfig) -> Variant:
    return get(config.variant)


def presets() -> dict[str, dict[str, Any]]:
    """Every preset by name: each variant brings its own, listed in the variants' order. Each preset lists only what
    differs from the RunConfig defaults."""
    return {name: values for variant in _variants.values() for name, values in variant.presets.items()}
