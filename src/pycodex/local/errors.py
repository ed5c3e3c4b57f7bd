"""`LocalModelError`: anything that stops the local model from being installed or served.

Its text is one line meant for people: what failed and what to do about it. The CLI prints it
after `error:` and exits non-zero; nothing here prints.
"""

from __future__ import annotations


class LocalModelError(Exception):
    """Installing, checking, building or serving the local model failed; `str()` is one line."""
