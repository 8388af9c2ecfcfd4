"""Column helpers shared by the models."""

from datetime import UTC

from sqlalchemy import DateTime, Enum
from sqlalchemy.types import TypeDecorator

from portal.clock import utcnow  # noqa: F401  (models and older callers import it from here)


class UTCDateTime(TypeDecorator):
    """A timestamp stored as UTC and always read back timezone-aware.

    SQLite keeps no time zone, PostgreSQL does; this makes both hand back the same aware value.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use portal.models.base.utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def string_enum(cls) -> Enum:
    """A column type storing a Python enum's values as plain strings (no database ENUM type to migrate)."""
    return Enum(cls, native_enum=False, length=20, values_callable=lambda members: [m.value for m in members])
