"""Server and tool names as the model sees them.

Every character outside `[A-Za-z0-9_]` becomes `_` (`my-srv.v2` → `my_srv_v2`, `read-file` →
`read_file`); a server's namespace is `mcp__<sanitised server>`. Calls name the sanitised tool;
the server is asked for its own name.
"""

from __future__ import annotations

import re

NAMESPACE_PREFIX = "mcp__"
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def sanitize(name: str) -> str:
    return _UNSAFE.sub("_", name)


def namespace_name(server: str) -> str:
    return NAMESPACE_PREFIX + sanitize(server)
