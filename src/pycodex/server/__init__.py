"""The Responses compat server (layer L4)."""
