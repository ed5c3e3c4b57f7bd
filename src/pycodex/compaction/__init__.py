"""History compaction (layer L2)."""
