"""The number format networks compute in: float32, or bfloat16 where the processor has instructions for it.

bfloat16 keeps float32's range with 8 bits of mantissa, so a GAN needs no loss scaling. Keras' "mixed_bfloat16"
policy keeps every weight in float32 and computes the layers in bfloat16; the last layer of each network stays in
float32 (see models), so logits, losses and images are float32 as before. A CPU computes bfloat16 natively only
with AVX512_BF16 or AMX (x86) or BF16 (Arm); without them the trainer falls back to float32 and says so. Whether
bfloat16 is faster depends on the processor: bench/bench_step_speed.py measures it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

PRECISIONS = ("float32", "bfloat16")
KERAS_POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16"}
# /proc/cpuinfo's flag names for native bfloat16 arithmetic: x86 (Cooper Lake, Sapphire Rapids, Zen 4 on) and Arm.
BFLOAT16_CPU_FLAGS = {"avx512_bf16", "amx_bf16", "bf16"}
CPU_INFO = Path("/proc/cpuinfo")


def cpu_flags(cpu_info: str) -> set[str]:
    """The feature flags a /proc/cpuinfo text lists ("flags" on x86, "Features" on Arm)."""
    flags: set[str] = set()
    for line in cpu_info.splitlines():
        name, _, values = line.partition(":")
        if name.strip().lower() in ("flags", "features"):
            flags.update(values.split())
    return flags


def cpu_has_bfloat16(cpu_info: str | None = None) -> bool:
    """Whether this machine's processor (or the given /proc/cpuinfo text) computes bfloat16 natively."""
    if cpu_info is None:
        try:
            cpu_info = CPU_INFO.read_text()
        except OSError:
            return False
    return bool(cpu_flags(cpu_info) & BFLOAT16_CPU_FLAGS)


def precision_to_use(requested: str, cpu_info: str | None = None) -> tuple[str, str]:
    """(the precision to train in, a note for the person, or "" when the request is granted as it is)."""
    if requested not in PRECISIONS:
        raise ValueError(f"precision={requested!r} is not allowed; allowed: {', '.join(PRECISIONS)}")
    if requested == "bfloat16" and not cpu_has_bfloat16(cpu_info):
        return "float32", ("precision=bfloat16 was asked for, but this processor has no bfloat16 instructions "
                           f"({', '.join(sorted(BFLOAT16_CPU_FLAGS))}); training in float32")
    return requested, ""


@contextlib.contextmanager
def computing_in(precision: str) -> Iterator[None]:
    """Layers built inside this block compute in `precision`; the global Keras policy is restored afterwards,
    so the networks built later (for sampling, say) are float32 and read the same checkpoints."""
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(KERAS_POLICIES[precision])
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)
