"""Password hashing (argon2id) and the password policy: long enough, and not a common password."""

from __future__ import annotations

from functools import cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 256

_hasher = PasswordHasher(type=Type.ID)
# Checked against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password, only for equal timing")


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; a missing hash still costs one verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with older parameters and should be replaced at the next sign-in."""
    return _hasher.check_needs_rehash(password_hash)


@cache
def common_passwords() -> frozenset[str]:
    """The list of common passwords shipped with the project, lower-cased."""
    text = resources.files("portal").joinpath("data/common-passwords.txt").read_text("utf-8")
    lines = (line.strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def password_problem(password: str, *, email: str = "", display_name: str = "") -> str | None:
    """Say what is wrong with a new password, or None when it is fine.

    No composition rules (NIST SP 800-63B): length, and not common or built from the person's own details.
    """
    if len(password) < MIN_LENGTH:
        return f"Please use at least {MIN_LENGTH} characters. A short sentence works well."
    if len(password) > MAX_LENGTH:
        return f"Please use at most {MAX_LENGTH} characters."
    lowered = password.lower()
    if lowered in common_passwords() or len(set(lowered)) <= 2:
        return "That password is on a list of common passwords. Please choose something less guessable."
    local_part = email.split("@", 1)[0].lower()
    if local_part and len(local_part) >= 4 and lowered.startswith(local_part):
        return "Please choose a password that does not start with your email address."
    return None
