"""Pure translation between the Responses API and other wire APIs (layer L1).

Each downstream wire API has two pure directions: a Responses request body → the downstream
request body, and the downstream stream → OpenAI Responses streaming event payloads (plain dicts,
exactly what a Responses server sends). That one event stream serves the native client (which
feeds each dict to `client.responses_stream.translate_event`) and the compat server (which writes
each dict out as an SSE frame). No HTTP, no I/O, no asyncio here.

    chat            Responses request → Chat Completions request (`responses_to_chat_request`)
    chat_stream     Chat Completions chunks → Responses events (`ChatStreamTranslator`)
    anthropic       Responses request → Anthropic Messages request, `anthropic_headers`
    anthropic_stream  Messages stream events → Responses events (`MessagesStreamTranslator`)
    kinds           `ProviderKind`: the one table of per-server Chat Completions adjustments
    errors          downstream HTTP and in-stream errors → Responses error codes
    stream_writer   the Responses event sequence of one response (ids, indices, lifecycle)
    translator      `StreamTranslator`, the base of both stream translators
    common          freeform-tool wrapping and Responses content helpers both sides share
"""
