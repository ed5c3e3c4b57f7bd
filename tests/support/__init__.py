"""Shared test support: the scripted fake model server and SSE event builders."""
