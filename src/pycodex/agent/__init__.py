"""The engine (layer L3): submission queue, turn loop, history, events. Never prints."""
