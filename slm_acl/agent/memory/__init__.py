"""Memories (replay and rollout buffers). Importing this package registers the built-in ones."""
