"""What a process that runs for months does without: `ollalog watch` calls `lean()` before anything
imports pyarrow.

pyarrow imports numpy when it is imported, when numpy is installed, and pandas the first time it
converts anything (to see whether it was handed a pandas object). A watch hands it neither, and
the two are an eighth of an idle watch's memory (benchmarks/README.md): in a lean process they are
not found, as where they are not installed. The explaining child of a watch (watch.explain_in_child)
has numpy: the estimator computes with it. Arrow's memory then comes from the system allocator,
which gives freed memory back (Arrow's default pool keeps it for the next batch).

Every `ollalog` command does without pandas (`cli.run`): none uses it, and the import pyarrow makes
of it costs a command about 60 MB of peak memory and 0.3 s where pandas is installed.
"""
from __future__ import annotations

import sys

WITHOUT = ("numpy", "pandas")


class _Absent:
    """An import finder under which the packages it names are not installed."""

    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, name, path=None, target=None):
        if name.split(".", 1)[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r} (a lean ollalog process does without it)",
                                      name=name)
        return None


def absent(names: tuple) -> None:
    """This process from now on: the packages `names` (those not imported yet) are not found."""
    names = [n for n in names if n not in sys.modules]
    finder = next((f for f in sys.meta_path if isinstance(f, _Absent)), None)
    if finder is None and names:
        sys.meta_path.insert(0, _Absent(names))
    elif finder is not None:
        finder.names.update(names)


def lean(without: tuple = WITHOUT) -> None:
    """This process from now on: `without` (those not imported yet) not found, and Arrow's memory
    from the system allocator."""
    absent(without)
    import pyarrow as pa
    pa.set_memory_pool(pa.system_memory_pool())


def allow(name: str) -> None:
    """`name` may be imported after all (a load explained in the watch process needs numpy)."""
    for f in sys.meta_path:
        if isinstance(f, _Absent):
            f.names.discard(name)
