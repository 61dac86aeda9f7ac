"""The web server's heap is frozen after new imports, with its garbage collected first, so that Streamlit's full
collection after every rerun skips the objects alive then; what is made afterwards is collected as usual."""

import gc
import sys
import types
import weakref

from views.server_heap import freeze_imported_libraries


class Node:
    """An object in a reference cycle: only the garbage collector frees it."""

    def __init__(self):
        self.itself = self


def cycle() -> tuple[Node, weakref.ref]:
    node = Node()
    return node, weakref.ref(node)


def test_new_imports_freeze_the_heap_once_with_the_garbage_collected_first():
    freeze_imported_libraries()
    try:
        assert freeze_imported_libraries() is False, "no new import, no second freeze"
        garbage, garbage_ref = cycle()
        survivor, survivor_ref = cycle()
        del garbage
        # A module never imported before in this process, as a page's first import of a library brings.
        sys.modules["server_heap_probe"] = types.ModuleType("server_heap_probe")

        assert freeze_imported_libraries() is True
        assert garbage_ref() is None, "the garbage made before the freeze was collected, not frozen"
        del survivor
        gc.collect()
        assert survivor_ref() is not None, "an object alive at the freeze is skipped by later collections"

        later, later_ref = cycle()
        del later
        gc.collect()
        assert later_ref() is None, "what is made after the freeze is collected as usual"
    finally:
        sys.modules.pop("server_heap_probe", None)
        gc.unfreeze()
    gc.collect()
    assert survivor_ref() is None
