"""Plain text for the wall: escaped, with http(s) links made clickable and nothing else interpreted."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

# A web address up to the next space or angle bracket or quote; trailing punctuation is the sentence's, not the link's.
URL = re.compile(r"""https?://[^\s<>"']+""", re.IGNORECASE)
TRAILING = ".,;:!?)]}"


def linkify(text: str | None) -> Markup:
    """``text`` escaped, with each http(s) address turned into a link (rel="nofollow noopener").

    Every character of the result comes out of ``escape``: the text between links, each link's address and
    its label. Nothing the person typed is ever marked safe as it is.
    """
    if not text:
        return Markup("")
    parts: list[Markup] = []
    position = 0
    for found in URL.finditer(text):
        address = found.group(0)
        while address and address[-1] in TRAILING:
            # Keep a closing bracket that belongs to the address, as in wiki links "(x)".
            if address[-1] == ")" and address.count("(") >= address.count(")"):
                break
            address = address[:-1]
        if len(address) <= len("https://"):
            continue
        start, end = found.start(), found.start() + len(address)
        parts.append(escape(text[position:start]))
        parts.append(
            Markup('<a href="{0}" rel="nofollow noopener">{0}</a>').format(address)
        )  # .format escapes its argument
        position = end
    parts.append(escape(text[position:]))
    return Markup("").join(parts)
