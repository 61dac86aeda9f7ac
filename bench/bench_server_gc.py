"""What Streamlit's clean-up after every script run costs the web server, before and after the dashboard freezes its
heap (views/server_heap.py).

    python3 bench/bench_server_gc.py [--repeats 20]

After each script run, fragment reruns included, Streamlit calls `keras.backend.clear_session()` once Keras is
imported, and that runs a full garbage collection. The script loads what a page that samples a generator loads
(TensorFlow, Keras, Streamlit and the engine's networks), then times that call `--repeats` times as it is, and again
after `freeze_imported_libraries()`. It prints the median and slowest call of each and the ratio frozen / as is.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time

from project_paths import PROJECT_ROOT  # noqa: F401 (puts the project on the import path)
from bench_clicks import cpu_name


def clean_up_seconds(repeats: int) -> list[float]:
    import keras

    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        keras.backend.clear_session()
        timings.append(time.perf_counter() - started)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    arguments = parser.parse_args()

    import streamlit  # noqa: F401
    import tensorflow  # noqa: F401
    from gan_core.nets import models, sampling  # noqa: F401
    from views.server_heap import freeze_imported_libraries

    objects = len(gc.get_objects())
    as_is = clean_up_seconds(arguments.repeats)
    freeze_imported_libraries()
    frozen = clean_up_seconds(arguments.repeats)

    print(f"{objects:,} objects tracked by the collector before the freeze; {arguments.repeats} clean-ups each\n")
    print(f"{'heap':<8} {'median ms':>10} {'slowest ms':>11}")
    for name, timings in (("as is", as_is), ("frozen", frozen)):
        print(f"{name:<8} {1000 * statistics.median(timings):>10.1f} {1000 * max(timings):>11.1f}")
    print(f"\nratio frozen / as is (median): {statistics.median(frozen) / statistics.median(as_is):.3f}")
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, {cpu_name()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
