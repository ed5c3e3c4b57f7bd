"""Package attributes that import their defining module on first use (a PEP 562 `__getattr__`).

`pycodex`, `pycodex.sessions` and `pycodex.apply_patch` re-export names from their submodules
this way, so importing the package (or one sibling) does not load every submodule.

`pycodex --version` imports this module, so it imports nothing at all (not `importlib`, which
brings `warnings`; not `typing` or `collections.abc`, ~10 ms between them; not even `__future__`):
the annotations are strings and the one import happens on the first lookup.
"""

import sys

# Not `typing.TYPE_CHECKING`: importing `typing` would cost `pycodex --version` ~9 ms.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any


def lazy_attributes(package: "str", exports: "Mapping[str, str]") -> "Callable[[str], Any]":
    """A module `__getattr__` for `package`; `exports` maps each name to the module defining it.

    The value found is stored on the package, so each name is looked up once.
    """

    def __getattr__(name: "str") -> "Any":
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        from importlib import import_module

        value = getattr(import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
