"""uv-drive-guard: tells you, the moment you plug in a drive, how uv will break on it."""

__version__ = "0.1.0"
