"""The daemon: tray, notifications and the worker that watches drives."""
