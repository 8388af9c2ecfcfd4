"""What every request must look like before a route sees it: sizes, characters and numbers.

One place rejects what no form or link of the portal ever sends, with a clear answer instead of a 500 deep in
the database: control characters (a NUL byte is refused by PostgreSQL), integers too large for a 64-bit
column, and bodies larger than any form needs. Routes may then trust ``int`` path parameters and plain text.
"""

from __future__ import annotations

import re

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

# The largest signed 64-bit integer: no number of any form is larger, and a database cannot compare with it.
MAX_INTEGER = 2**63 - 1
# The largest id: ids are INTEGER columns, 32 bits on PostgreSQL, where a larger value in a query is an error.
MAX_ID = 2**31 - 1
# Pages past this are empty anyway; capping them keeps OFFSET itself inside 64 bits.
MAX_PAGE = 1_000_000
# Any form of the portal is a few kilobytes; the roster upload has its own, larger limit.
MAX_BODY = 1024 * 1024

# C0 controls and DEL, except tab, line feed and carriage return, which multi-line text legitimately holds.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
INTEGER = re.compile(r"\s*[+-]?\d+\s*")

CONTROL_MESSAGE = (
    "Some of the text contained invisible control characters, which the portal cannot keep. "
    "Please remove them (pasting as plain text usually helps) and try again; nothing has been changed."
)
NUMBER_MESSAGE = "One of the numbers was far too large. Please check it and try again; nothing has been changed."


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` that matches only values an id column can hold, so larger ids answer 404, not 500."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:  # fmt: skip
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class BadInput(Exception):
    """A request carried something no form of the portal sends; ``message`` says what, for the person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def problem_in(values) -> str | None:
    """The message for the first unacceptable value of a MultiDict (keys included), or None when all is well."""
    for key, value in values.items(multi=True):
        for text in (key, value):
            if CONTROL.search(text):
                return CONTROL_MESSAGE
            if INTEGER.fullmatch(text) and abs(int(text)) > MAX_INTEGER:
                return NUMBER_MESSAGE
    return None


def id_arg(name: str) -> int | None:
    """A positive id in the query string, or None when missing, garbled or larger than any id."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= MAX_ID else None


def page_arg(name: str = "page") -> int:
    """The page number in the query string: 1 when missing or garbled, at most MAX_PAGE."""
    value = request.args.get(name, 1, type=int)
    return min(max(value, 1), MAX_PAGE)


def register_edge_checks(app: Flask, larger_bodies: dict[str, int] | None = None) -> None:
    """Cap bodies app-wide (``larger_bodies`` maps an endpoint to its own cap) and check every form and query.

    The ``int`` converter must be replaced before any blueprint is registered, so call this first.
    """
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.url_map.converters["int"] = BoundedIntegerConverter
    larger = dict(larger_bodies or {})

    @app.before_request
    def check_input():
        if request.endpoint in larger:
            request.max_content_length = larger[request.endpoint]
            if (request.content_length or 0) > larger[request.endpoint]:
                return  # unread: the upload's own view refuses it in its own words
        message = problem_in(request.args)
        if message is None and request.method not in ("GET", "HEAD", "OPTIONS"):
            message = problem_in(request.form)
        if message is not None:
            raise BadInput(message)

    @app.errorhandler(BadInput)
    def bad_input(error: BadInput):
        from portal.web import error_response

        return error_response(400, "Please check what you sent", error.message)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error):
        from portal.web import error_response

        return error_response(
            413, "That was too much to send at once", "The form was larger than the portal accepts. Please shorten "
            "it, or send it in parts; nothing has been changed.",
        )  # fmt: skip
