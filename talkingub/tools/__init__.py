"""External tools the toolkit drives (ffmpeg)."""
