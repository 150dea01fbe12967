"""Fixes: persistent changes to the user's environment, each one undoable."""
