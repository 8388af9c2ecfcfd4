"""Domain errors that services raise, and the one place that turns them into answers.

Services raise these; routes do not catch them (except ``ValidationFailed``, which ``portal.web.errors_onto``
puts next to the fields of the form being re-rendered). ``register_error_handlers`` answers each with the
usual error page, or, during an htmx request, with a message in the page's status region, and the request's
transaction is rolled back at the edge (see ``portal.web``).
"""

from __future__ import annotations


class DomainError(Exception):
    """A request that cannot be done as asked. ``message`` is written for the person, in plain words."""

    status = 400
    title = "That did not work"
    default_message = "That could not be done. Nothing has been changed."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class NotFound(DomainError, LookupError):
    """There is nothing here for this person: it does not exist, or it belongs to someone else (404).

    Also a ``LookupError``, so that older callers that catch ``LookupError`` keep working.
    """

    status = 404
    title = "Page not found"
    default_message = "There is nothing here. It may have moved, or never existed."


class NotAllowed(DomainError):
    """The person may see this but not do that (403), e.g. a mentor setting the mentee's goal."""

    status = 403
    title = "Not available to you"
    default_message = "This is for someone else to do."


class Conflict(DomainError):
    """The thing changed state since the person saw it (409): already shared, already ended, a newer version.

    ``current`` may carry the newer state so that a route can show it beside the person's own input.
    """

    status = 409
    title = "This has changed in the meantime"
    default_message = "Someone changed this after you opened it. Please reload the page; nothing was overwritten."

    def __init__(self, message: str | None = None, *, current=None):
        super().__init__(message)
        self.current = current


class ValidationFailed(DomainError):
    """Input broke a business rule (422). ``errors`` maps a form field name to a message for the person."""

    status = 422
    title = "Please check what you entered"

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
