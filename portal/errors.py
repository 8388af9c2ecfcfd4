"""Domain errors raised by services and turned into messages next to the field they concern."""

from __future__ import annotations


class ValidationFailed(Exception):
    """Input broke a business rule. ``errors`` maps a form field name to a message for the person."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
