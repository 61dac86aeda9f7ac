"""A sweep's search space: the settings that vary between its trials and the values each may take.

A grid lists values (`g_learning_rate=3e-4,1e-3`); a range gives bounds to draw from (`g_learning_rate=1e-4:1e-2:log`).
Every name and every value is checked against the base configuration here, before any trial exists, so that a bad
sweep is refused with the setting named and nothing queued.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from typing import Any

from gan_core.spec.config import RunConfig, setting_of, unknown_fields_message
from gan_core.spec.settings import SettingError

# More trials than a class or a lab runs on a few machines in an afternoon; a typo in a grid should not queue a
# thousand runs.
MAX_TRIALS = 64
# Settings a sweep never varies: they name, place or steer the trial rather than what it learns.
FIXED_SETTINGS = ("name", "variant", "dataset", "data_path", "playground", "steps")


@dataclass(frozen=True)
class Dimension:
    """One grid setting and its values, or one range to draw from (`low`..`high`, evenly in log space if `log`)."""

    name: str
    values: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    log: bool = False

    @property
    def is_range(self) -> bool:
        return self.low is not None

    def text(self) -> str:
        """The dimension as the command line writes it."""
        if self.is_range:
            return f"{self.name}={self.low:g}:{self.high:g}{':log' if self.log else ''}"
        return f"{self.name}={','.join(str(value) for value in self.values)}"


@dataclass(frozen=True)
class SearchSpace:
    """The dimensions of a sweep; with `random_count` its trials are that many random draws, else the whole grid."""

    dimensions: tuple[Dimension, ...]
    random_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"dimensions": [dimension.text() for dimension in self.dimensions], "random_count": self.random_count}

    @classmethod
    def from_dict(cls, values: dict[str, Any], base: RunConfig) -> SearchSpace:
        return build_space(base, [text for text in values["dimensions"]], values.get("random_count", 0))


def build_space(base: RunConfig, texts: list[str], random_count: int = 0) -> SearchSpace:
    """The search space that `texts` (grid `name=a,b` and range `name=low:high[:log]` lines) describe around `base`.

    ValueError naming the setting for an unknown setting, an empty grid, a value out of its setting's range, a range
    without --random, or more than MAX_TRIALS trials.
    """
    if not texts:
        raise ValueError("a sweep needs at least one setting to vary, e.g. g_learning_rate=3e-4,1e-3")
    dimensions = tuple(parse_dimension(base, text) for text in texts)
    names = [dimension.name for dimension in dimensions]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"setting {repeated[0]} is given twice; list all its values in one line")
    if random_count < 0:
        raise ValueError(f"random trials must be 0 (every combination of the grid) or more, not {random_count}")
    space = SearchSpace(dimensions, random_count)
    ranged = [dimension.name for dimension in dimensions if dimension.is_range]
    if ranged and not random_count:
        raise ValueError(f"{ranged[0]} is a range; a range needs a number of random trials (--random N)")
    if trial_count(space) > MAX_TRIALS:
        raise ValueError(f"this sweep would make {trial_count(space)} trials; a sweep holds at most {MAX_TRIALS}")
    return space


def parse_dimension(base: RunConfig, text: str) -> Dimension:
    """One line of a search space, checked: the name is a setting of the base's variant and every value is allowed."""
    name, separator, values_text = text.partition("=")
    name = name.strip()
    if not separator or not name:
        raise ValueError(f"{text!r} must look like name=value1,value2 or name=low:high")
    setting = checked_setting(base, name)
    if ":" in values_text:
        return parse_range(base, name, setting.kind, values_text)
    values = tuple(value.strip() for value in values_text.split(",") if value.strip())
    if not values:
        raise SettingError(name, f"the grid of {name} is empty; give at least one value, e.g. {name}="
                                 f"{getattr(base, name)}")
    typed = tuple(dict.fromkeys(setting.coerce(value) for value in values))
    for value in typed:
        base.replace(**{name: value})  # refused with the setting's own rule when out of range
    return Dimension(name, typed)


def checked_setting(base: RunConfig, name: str):
    """The setting `name` may vary in a sweep of `base`; SettingError saying why not otherwise."""
    if name in FIXED_SETTINGS:
        raise SettingError(name, f"a sweep cannot vary {name}; it varies what a run learns with, not "
                                 f"{', '.join(FIXED_SETTINGS)} (the budget sets the steps)")
    setting = setting_of(name)  # SettingError listing the known settings
    if name not in base.to_dict():
        raise SettingError(name, unknown_fields_message([name], base.variant))
    return setting


def parse_range(base: RunConfig, name: str, kind: type, text: str) -> Dimension:
    parts = [part.strip() for part in text.split(":")]
    log = len(parts) == 3 and parts[2] == "log"
    if len(parts) not in (2, 3) or (len(parts) == 3 and not log) or kind not in (int, float):
        raise SettingError(name, f"{name}={text} is not a range; a range is low:high or low:high:log of a number "
                                 f"setting")
    low, high = (setting_of(name).coerce(part) for part in parts[:2])
    if not low < high:
        raise SettingError(name, f"the range of {name} must go from low to high, not {low:g} to {high:g}")
    if log and low <= 0:
        raise SettingError(name, f"a log range of {name} must start above 0, not at {low:g}")
    for value in (low, high):
        base.replace(**{name: value})
    return Dimension(name, low=float(low), high=float(high), log=log)


def trial_count(space: SearchSpace) -> int:
    if space.random_count:
        return space.random_count
    return math.prod(len(dimension.values) for dimension in space.dimensions)


def trial_settings(space: SearchSpace, seed: int = 0) -> list[dict[str, Any]]:
    """Each trial's settings: the grid's every combination in order, or `random_count` seeded draws (a grid
    dimension then picks one of its values, a range draws within its bounds)."""
    if not space.random_count:
        names = [dimension.name for dimension in space.dimensions]
        return [dict(zip(names, values)) for values in
                itertools.product(*(dimension.values for dimension in space.dimensions))]
    draw = random.Random(seed)
    return [{dimension.name: drawn_value(dimension, draw) for dimension in space.dimensions}
            for _ in range(space.random_count)]


def drawn_value(dimension: Dimension, draw: random.Random) -> Any:
    if not dimension.is_range:
        return draw.choice(dimension.values)
    if dimension.log:
        value = math.exp(draw.uniform(math.log(dimension.low), math.log(dimension.high)))
    else:
        value = draw.uniform(dimension.low, dimension.high)
    if setting_of(dimension.name).kind is int:
        return int(round(value))
    # Three significant digits read well in a table; rounding must not step outside the range.
    return min(max(float(f"{value:.3g}"), dimension.low), dimension.high)
