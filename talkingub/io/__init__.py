"""Crash-safe file helpers shared by every stage."""

from talkingub.io.atomic import atomic_path, atomic_write_bytes, atomic_write_text, sha256_file

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "sha256_file"]
