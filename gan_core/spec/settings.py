"""One setting of a run: its type, range, label and help, in one place for validation, the form and the CLI.

`RunConfig` validates its fields with these, the Train form draws its widgets from them, and each GAN variant
declares its own settings the same way, so a range or a help text is written once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

KINDS = (int, float, bool, str)


class SettingError(ValueError):
    """A setting whose value is not allowed; `field` names it, so a form can show the message beside it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Setting:
    """What a setting may hold and how people are told about it.

    `allowed` is the rule as a person reads it ("from 4 to 1024"); `check` is that rule as code. Numbers are
    checked against `minimum` and `maximum` when no `check` is given. `step` is the form's +/- step and
    `number_format` how it shows the value. `default` is used by variant settings; the shared fields keep
    theirs in `RunConfig`.
    """

    name: str
    kind: type
    label: str
    help: str
    allowed: str = ""
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] = ()
    check: Callable[[Any], bool] | None = None
    step: Any = None
    number_format: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise TypeError(f"setting {self.name!r} has kind {self.kind!r}; use one of int, float, bool, str")

    @property
    def widget(self) -> str:
        """How the form shows it: "choice", "bool", "text", "int" or "float"."""
        if self.choices:
            return "choice"
        return {bool: "bool", str: "text", int: "int", float: "float"}[self.kind]

    def rule(self) -> str:
        if self.allowed:
            return self.allowed
        if self.choices:
            return f"one of {', '.join(map(str, self.choices))}"
        if self.minimum is not None and self.maximum is not None:
            return f"from {self.minimum:g} to {self.maximum:g}"
        return TYPE_DESCRIPTIONS[self.kind]

    def validate(self, value: Any) -> None:
        """Raise SettingError naming the setting when `value` has the wrong type or breaks the rule."""
        if not has_kind(value, self.kind):
            fail(self.name, value, TYPE_DESCRIPTIONS[self.kind])
        if self.choices and value not in self.choices:
            fail(self.name, value, self.rule())
        if self.check is not None:
            if not self.check(value):
                fail(self.name, value, self.rule())
        elif self.kind in (int, float):
            too_small = self.minimum is not None and value < self.minimum
            too_large = self.maximum is not None and value > self.maximum
            if too_small or too_large:
                fail(self.name, value, self.rule())

    def coerce(self, value: Any) -> Any:
        return coerce(self.name, self.kind, value)


TYPE_DESCRIPTIONS = {float: "a finite number", int: "a whole number", bool: "true or false", str: "text"}


def fail(name: str, value: Any, allowed: str) -> None:
    raise SettingError(name, f"{name}={value!r} is not allowed; {name} must be {allowed}")


def has_kind(value: Any, kind: type) -> bool:
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def coerce(name: str, kind: type, value: Any) -> Any:
    """Convert `value` to `kind`, accepting the text forms a command line gives.

    Only lossless conversions are made: "3" becomes 3, but 3.5 is not silently truncated to an int.
    """
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise SettingError(name, f"{name}={value!r} is not a boolean; use true or false")
    if kind is int:
        if isinstance(value, bool):
            raise SettingError(name, f"{name}={value!r} must be a whole number")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value).strip())
        except ValueError:
            raise SettingError(name, f"{name}={value!r} must be a whole number") from None
    if kind is float:
        if isinstance(value, bool):
            raise SettingError(name, f"{name}={value!r} must be a number")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise SettingError(name, f"{name}={value!r} must be a number") from None
    if not isinstance(value, str):
        raise SettingError(name, f"{name}={value!r} must be text")
    return value
