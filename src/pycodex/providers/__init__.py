"""Pure translation between the Responses API and other wire APIs (layer L1)."""
