"""All models, imported here so Alembic's autogenerate sees every table."""

from portal.models.accounts import Role, Team, User
from portal.models.notifications import Notification, OutboxEmail
from portal.models.profiles import Choice, Draft, ProfileAnswer, ProfileStep

__all__ = [
    "Choice",
    "Draft",
    "Notification",
    "OutboxEmail",
    "ProfileAnswer",
    "ProfileStep",
    "Role",
    "Team",
    "User",
]
