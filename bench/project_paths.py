"""The project's root, and the import path the benchmarks need, in one place.

The benchmarks run as scripts from any folder (`python bench/bench_NAME.py`), so only bench/ is on the import path;
they import the engine (gan_core) and the tests' helpers (tests/support). Importing this module puts the project
root and tests/ at the front of sys.path, once, unless they are already there.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

sys.path[:0] = [folder for folder in (str(PROJECT_ROOT), str(PROJECT_ROOT / "tests")) if folder not in sys.path]
