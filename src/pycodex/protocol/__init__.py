"""Wire and domain types (layer L0): Responses API items, internal response events, engine ops and
events, the public `exec --json` schema, token usage, policies, and the markers of injected
context. Imports nothing from pycodex but the helpers below every layer (`pycodex._records`).
"""
