"""Model clients (layer L1): the SSE decoder, the Responses API client, the retry policy and the
error tree.
"""
