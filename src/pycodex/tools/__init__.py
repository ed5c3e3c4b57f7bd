"""Tools (layer L2): the BaseTool interface, the registry and dispatch, the argument checker
(`validate`) and typed arguments (`arguments`), approvals, and the built-in tools."""
