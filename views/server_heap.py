"""Keeping the web server's garbage collections short once TensorFlow is loaded.

After every script run, fragment reruns included, Streamlit calls `keras.backend.clear_session()` when Keras is
imported, and that runs a full garbage collection. With TensorFlow and Keras loaded a full collection walks some
430,000 objects: 0.2 s of CPU on a quiet 2-core EPYC and 0.9 s on a busy one (bench/bench_server_gc.py), once a
second while a Monitor page refreshes, taken from the trainer beside it. Nearly all of those objects belong to the
imported libraries and live as long as the server. `gc.freeze()` moves every object alive at that moment into a
generation the collector skips; objects made afterwards are collected as usual.
"""

from __future__ import annotations

import gc
import sys

_modules_at_last_freeze = 0


def freeze_imported_libraries() -> bool:
    """When modules were imported since the last call: collect the garbage, then freeze what is left (the
    libraries' objects, mostly), so that later full collections skip it. Returns whether it froze.

    Collecting first means no garbage is kept frozen; freezing only after new imports keeps this to a few times in
    a server's life (the first page, the first page that loads TensorFlow, ...).
    """
    global _modules_at_last_freeze
    if len(sys.modules) <= _modules_at_last_freeze:
        return False
    _modules_at_last_freeze = len(sys.modules)
    gc.collect()
    gc.freeze()
    return True
