"""The company roster: CSV upload, a preview of what would change, applying it all at once, claiming accounts."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass

from sqlalchemy import func, select, update

from portal.accounts.services import get_or_create_team, normalise_email
from portal.clock import utcnow
from portal.database import batches
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.models import RosterEntry, RosterImport, Team, User
from portal.notifications.services import notify
from portal.passwords import hash_password, password_problem

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 20_000
PREVIEW_LIMIT = 200  # rows of each list shown on the preview; the CSV export has every bad row
REQUIRED = ("name", "email", "team")
COLUMNS = (*REQUIRED, "manager_email")
ALIASES = {"work_email": "email", "manager": "manager_email", "manager_work_email": "manager_email"}
EMAIL = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+$")
# A spreadsheet treats a cell starting with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class FileTooLarge(ValidationFailed):
    """The upload is over MAX_BYTES (answered with 413)."""


class ImportNotApplicable(Exception):
    """The import cannot be applied (already applied, has bad rows, or the roster changed since)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ClaimUsed(Exception):
    """The claim link was already used, or the person already has an account."""


@dataclass
class Parsed:
    rows: list[list]  # [email, name, team, manager email or None]
    problems: list[dict]


def _column(raw: str) -> str:
    key = "_".join(raw.strip().lower().replace("-", " ").split())
    return ALIASES.get(key, key)


def _file_error(message: str) -> ValidationFailed:
    return ValidationFailed({"file": message})


def decode(data: bytes) -> str:
    """The file's text, UTF-8 with or without a byte-order mark.

    Raises FileTooLarge over 2 MB, ValidationFailed (field ``file``) for an empty file or another encoding.
    """
    if len(data) > MAX_BYTES:
        raise FileTooLarge(
            {"file": "This file is larger than 2 MB. Please split it into smaller files and upload them one by one."}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_error(
            "This file is not saved as UTF-8 text, so names could come out garbled. In your spreadsheet, "
            "choose \u201cSave as\u201d, then \u201cCSV UTF-8\u201d, and upload it again."
        ) from None
    if not text.strip():
        raise _file_error("This file is empty. Please choose the roster file, with a header line first.")
    if "\x00" in text:
        raise _file_error("This does not look like a CSV file. Please export the roster as CSV UTF-8.")
    return text


def parse(text: str, *, known_emails: set[str]) -> Parsed:
    """Read roster rows from CSV text with a header line; every bad row comes back with its line and reason.

    ``known_emails`` are addresses already on the roster or with an account: a manager may be one of them.
    Raises ValidationFailed (field ``file``) for a missing or unknown column, or more than 20,000 rows.
    Cells are kept as plain text, never interpreted.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise _file_error("The first line must name the columns: name, email, team, manager_email.") from None
    columns = [_column(cell) for cell in header]
    unknown = [raw.strip() for raw, key in zip(header, columns, strict=True) if key not in COLUMNS]
    if len(header) == 1 and ";" in header[0]:
        raise _file_error("The columns seem to be separated by semicolons. Please save the file as CSV (commas).")
    if unknown:
        raise _file_error(
            f"Line 1 has a column we do not know: \u201c{unknown[0][:40]}\u201d. "
            "The columns are name, email, team and, optionally, manager_email."
        )
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise _file_error(f"Line 1 must name the column \u201c{missing[0]}\u201d. The columns are name, email, team.")
    if len(set(columns)) != len(columns):
        raise _file_error("Line 1 names a column twice. Please keep one of each.")

    raw_rows: list[tuple[int, dict[str, str], bool]] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(raw_rows) >= MAX_ROWS:
                raise _file_error(f"This file has more than {MAX_ROWS:,} people. Please split it into smaller files.")
            values = {key: (cells[i].strip() if i < len(cells) else "") for i, key in enumerate(columns)}
            raw_rows.append((reader.line_num, values, len(cells) > len(columns)))
    except csv.Error as error:
        raise _file_error(f"Line {reader.line_num} could not be read as CSV ({error}).") from None

    file_emails = {normalise_email(values["email"]) for _, values, _ in raw_rows if values["email"]}
    seen: dict[str, int] = {}
    rows, problems = [], []
    for line, values, too_many in raw_rows:
        email = normalise_email(values["email"])
        manager = normalise_email(values.get("manager_email", ""))
        reason = None
        if too_many:
            reason = "This line has more cells than the header has columns."
        elif not email:
            reason = "The email is missing."
        elif len(email) > 254 or not EMAIL.match(email):
            reason = "The email does not look like an email address."
        elif email in seen:
            reason = f"This email is already on line {seen[email]}."
        elif not values["name"]:
            reason = "The name is missing."
        elif len(values["name"]) > 80:
            reason = "The name is longer than 80 characters."
        elif not values["team"]:
            reason = "The team is missing."
        elif len(values["team"]) > 80:
            reason = "The team is longer than 80 characters."
        elif manager and not EMAIL.match(manager):
            reason = "The manager's email does not look like an email address."
        elif manager and manager == email:
            reason = "A person cannot be their own manager."
        elif manager and manager not in file_emails and manager not in known_emails:
            reason = "The manager's email is not on the roster or in this file."
        if email and email not in seen:
            seen[email] = line
        if reason:
            problems.append({"line": line, "reason": reason, **{key: values.get(key, "") for key in COLUMNS}})
        else:
            rows.append([email, " ".join(values["name"].split()), " ".join(values["team"].split()), manager or None])
    return Parsed(rows=rows, problems=problems)


def _known_emails() -> set[str]:
    return set(db.session.scalars(select(RosterEntry.email))) | set(db.session.scalars(select(User.email)))


def _diff(rows: list[list]) -> dict:
    """What applying ``rows`` to today's roster would do: added and changed rows, and how many are unchanged."""
    current = {
        entry.email: (entry.name, entry.team_name, entry.manager_email)
        for entry in db.session.execute(
            select(RosterEntry.email, RosterEntry.name, RosterEntry.team_name, RosterEntry.manager_email)
        )
    }
    added, changed, unchanged = [], [], 0
    for email, name, team, manager in rows:
        before = current.get(email)
        if before is None:
            added.append([email, name, team, manager])
        elif before != (name, team, manager):
            after = (name, team, manager)
            labels = ("name", "team", "manager")
            what = [label for label, old, new in zip(labels, before, after, strict=True) if old != new]
            changed.append([email, name, team, manager, what])
        else:
            unchanged += 1
    kept = len(set(current) - {row[0] for row in rows})
    return {"added": added, "changed": changed, "unchanged": unchanged, "kept": kept}


def preview_upload(uploader: User, *, filename: str, data: bytes) -> RosterImport:
    """Parse an uploaded roster and keep it with a preview of its effect; nothing on the roster changes.

    Raises FileTooLarge, or ValidationFailed (field ``file``) for a file that cannot be read as a roster.
    """
    text = decode(data)
    parsed = parse(text, known_emails=_known_emails())
    upload = RosterImport(
        uploaded_by_id=uploader.id,
        filename=(filename or "roster.csv")[-200:],
        digest=hashlib.sha256(data).hexdigest(),
        rows=parsed.rows,
        problems=parsed.problems,
        summary=_diff(parsed.rows),
    )
    db.session.add(upload)
    db.session.flush()
    return upload


def get_import(import_id: int) -> RosterImport:
    """The stored upload. Raises LookupError when there is none."""
    upload = db.session.get(RosterImport, import_id)
    if upload is None:
        raise NotFound()
    return upload


def apply_import(upload: RosterImport) -> dict:
    """Apply a previewed upload to the roster: all of it, in the caller's transaction, or nothing.

    Accounts on the roster take their team from it (matching keeps people out of their own team).
    Raises ImportNotApplicable when it was applied already, has bad rows, or another import was applied
    after this preview was made (the preview would no longer be true). Returns the counts applied.
    """
    if upload.applied_at is not None:
        raise ImportNotApplicable("This file has already been applied.")
    if upload.problems:
        raise ImportNotApplicable("Please fix the rows listed below and upload the file again; nothing was applied.")
    # Claimed with one conditional UPDATE before anything else: when the same import is applied twice at once,
    # the second waits for the first and then finds it applied (SQLite serialises writers anyway). The claim
    # sits in a savepoint, so a refusal below leaves the import exactly as it was.
    with db.session.begin_nested():
        claimed = db.session.execute(
            update(RosterImport)
            .where(RosterImport.id == upload.id, RosterImport.applied_at.is_(None))
            .values(applied_at=utcnow()),
            execution_options={"synchronize_session": False},
        ).rowcount
        if not claimed:
            raise ImportNotApplicable("This file has already been applied.")
        later = db.session.scalar(
            select(func.count())
            .select_from(RosterImport)
            .where(
                RosterImport.id != upload.id,
                RosterImport.applied_at.is_not(None),
                RosterImport.applied_at > upload.created_at,
            )
        )
        if later:
            raise ImportNotApplicable("The roster changed after this preview was made. Please upload the file again.")
    entries = {entry.email: entry for entry in db.session.scalars(select(RosterEntry))}
    teams = {team.name.lower(): team for team in db.session.scalars(select(Team))}
    accounts = {
        user.email: user
        for chunk in batches(row[0] for row in upload.rows)
        for user in db.session.scalars(select(User).where(User.email.in_(chunk)))
    }
    added = changed = 0
    for email, name, team_name, manager in upload.rows:
        entry = entries.get(email)
        if entry is None:
            db.session.add(RosterEntry(email=email, name=name, team_name=team_name, manager_email=manager))
            added += 1
        elif (entry.name, entry.team_name, entry.manager_email) != (name, team_name, manager):
            entry.name, entry.team_name, entry.manager_email = name, team_name, manager
            changed += 1
        account = accounts.get(email)
        if account is not None:
            team = teams.get(team_name.lower())
            if team is None:
                team = teams[team_name.lower()] = get_or_create_team(team_name)
            if account.team_id != team.id:
                account.team_id = team.id
    db.session.refresh(upload)
    db.session.flush()
    return {"added": added, "changed": changed, "unchanged": len(upload.rows) - added - changed}


def roster_size() -> tuple[int, int]:
    """(people on the roster, of whom invited: no account yet), in one query."""
    # A join, not "NOT EXISTS an account" per entry: PostgreSQL cannot turn that test inside an aggregate into
    # a join, and looked up every entry's account one by one (25,000 probes, 38 ms median at the benchmark's
    # roster). An email names at most one account, so the join keeps one row per entry.
    total, with_account = db.session.execute(
        select(func.count(), func.count(User.id))
        .select_from(RosterEntry)
        .outerjoin(User, User.email == RosterEntry.email)
    ).one()
    return total, total - with_account


def recent_imports(limit: int = 10) -> list[RosterImport]:
    """The latest uploads, newest first (their rows are not loaded)."""
    from sqlalchemy.orm import load_only

    return list(
        db.session.scalars(
            select(RosterImport)
            .options(
                load_only(RosterImport.id, RosterImport.filename, RosterImport.created_at, RosterImport.applied_at)
            )
            .order_by(RosterImport.id.desc())
            .limit(limit)
        )
    )


def spreadsheet_safe(value: str) -> str:
    """A cell that a spreadsheet shows as text: a leading quote before anything that looks like a formula."""
    value = "" if value is None else str(value)
    return "'" + value if value.startswith(FORMULA_START) else value


def problems_csv(upload: RosterImport) -> str:
    """The bad rows of an upload as CSV, with formula-looking cells made harmless, for fixing in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["line", "reason", *COLUMNS])
    for problem in upload.problems:
        cells = [problem.get(column, "") for column in COLUMNS]
        writer.writerow([problem["line"], *(spreadsheet_safe(cell) for cell in [problem["reason"], *cells])])
    return out.getvalue()


# --- invited people claim their account -----------------------------------------------------------------


def invited_entry(entry_id: int) -> RosterEntry:
    """The roster entry a claim link names, still unclaimed.

    Raises LookupError when there is no such entry, ClaimUsed when its link was used or an account
    with its email exists already.
    """
    entry = db.session.get(RosterEntry, entry_id)
    if entry is None:
        raise LookupError(entry_id)
    if entry.claimed_at is not None or db.session.scalar(select(User.id).where(User.email == entry.email)):
        raise ClaimUsed
    return entry


def claim_account(entry: RosterEntry, *, display_name: str, password: str) -> User:
    """Create the invited person's account from their roster entry and record that the link is used.

    Raises ValidationFailed (``display_name`` or ``password``, same policy as registering) and ClaimUsed.
    """
    if entry.claimed_at is not None or db.session.scalar(select(User.id).where(User.email == entry.email)):
        raise ClaimUsed
    display_name = " ".join((display_name or "").split())
    if not display_name:
        raise ValidationFailed({"display_name": "Please tell us your name."})
    if len(display_name) > 80:
        raise ValidationFailed({"display_name": "Please keep your name to 80 characters."})
    problem = password_problem(password or "", email=entry.email, display_name=display_name)
    if problem:
        raise ValidationFailed({"password": problem})
    user = User(
        email=entry.email,
        display_name=display_name,
        team=get_or_create_team(entry.team_name),
        password_hash=hash_password(password),
    )
    db.session.add(user)
    entry.claimed_at = utcnow()
    db.session.flush()
    notify(
        user,
        "Welcome. Look around at your own pace; the questionnaire is there whenever you like.",
        endpoint="main.home",
    )
    return user
