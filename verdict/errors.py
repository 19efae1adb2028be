"""Errors of the verdict that mean "this input cannot be judged" (the CLI exits 2 on them)."""

from __future__ import annotations


class HistoryError(Exception):
    """A report directory, shard or budget file that cannot be analysed; the message names
    the file (and line) and what is wrong with it."""
