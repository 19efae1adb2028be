"""The one error every expression function raises, worded like DynamoDB's messages."""

from __future__ import annotations


class ExpressionError(ValueError):
    """An invalid expression or a failure while applying it (DynamoDB ValidationException)."""
