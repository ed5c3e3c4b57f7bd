"""Event consumers (layer L4): exec human output and exec JSONL."""
