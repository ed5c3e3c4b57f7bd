"""Tools (layer L2): the BaseTool interface, the registry, dispatch and the built-in tools."""
