"""Wire and domain types (layer L0): Responses API items, internal response events, engine ops and
events, the public `exec --json` schema, token usage and policies. Imports nothing else from
pycodex.
"""
