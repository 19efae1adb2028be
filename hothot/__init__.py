"""hothot: chaos and load testing for active-active multi-region databases."""

__version__ = "0.1.0"
