"""The interest nudge: roster import, claim links, "just curious", personal nudges, their guardrails and privacy."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.clock import today, utcnow
from portal.extensions import db
from portal.models import (
    InterestEvent,
    InterestKind,
    Notification,
    Nudge,
    NudgeAnswer,
    OutboxEmail,
    RosterEntry,
    RosterImport,
    User,
)
from portal.notifications.services import deliver_pending
from portal.nudges import roster as roster_module
from portal.nudges.links import card_token, claim_token
from portal.nudges.services import REFUSAL, add_months, get_recipient, send_nudge, why_not
from tests.conftest import count_queries, login_as, post
from tests.factories import (
    answer,
    enrol,
    make_cycle,
    make_director,
    make_nudge,
    make_post,
    make_roster_entry,
    make_user,
)
from tests.test_notifications import smtp_server  # noqa: F401  (the real local SMTP server fixture)

KIND_REFUSAL = "This person can\u2019t receive a nudge right now. Thank you for thinking of them."


def upload(client, text: str | bytes, filename: str = "roster.csv", **kwargs):
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    return post(client, "/nudges/roster", {"file": (io.BytesIO(data), filename)}, **kwargs)


def roster_count() -> int:
    return db.session.scalar(select(func.count()).select_from(RosterEntry))


def nudge_form(client, recipient_key: str, message: str = "I think you'd be a wonderful mentor.", **extra):
    data = {"to": recipient_key, "message": message, "suggested_role": "none", "show_name": "name", **extra}
    return post(client, "/nudges/new", data)


def emails_to(address: str) -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == address)))


def link_in(body: str) -> str:
    match = re.search(r"http://127\.0\.0\.1:5000(/nudges/\S+)", body)
    assert match, body
    return match.group(1)


# --- the roster -------------------------------------------------------------------------------------------


GOOD = (
    "name,email,team,manager_email\n"
    "Ana Lima,ana@example.com,Support,\n"
    "Ben Ode,ben@example.com,Support,ana@example.com\n"
)


def test_the_preview_lists_every_bad_row_with_its_line_and_reason_and_changes_nothing(client):
    director = make_director()
    login_as(client, director)
    text = (
        "name,email,team,manager_email\n"
        "Ana Lima,ana@example.com,Support,\n"
        "No Email,,Support,\n"
        "Bad Email,not-an-email,Support,\n"
        "Ana Again,ANA@example.com,Support,\n"
        "Lost Report,lost@example.com,Support,nobody@example.com\n"
    )
    response = upload(client, text)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Rows to fix" in page
    for line, reason in [
        (3, "The email is missing."),
        (4, "The email does not look like an email address."),
        (5, "This email is already on line 2."),
        (6, "The manager\u2019s email is not on the roster or in this file.".replace("\u2019", "&#39;")),
    ]:
        assert re.search(rf"<th scope=\"row\">{line}</th><td>{re.escape(reason)}</td>", page), (line, reason)
    assert 'id="count-added">1<' in page
    assert "/apply" not in page  # no "Apply" button while rows need fixing
    assert roster_count() == 0  # nothing is applied by a preview


def test_a_clean_file_is_applied_all_at_once_and_accounts_take_their_team(client):
    director = make_director()
    ben = make_user(email="ben@example.com", team="Data")
    login_as(client, director)
    response = upload(client, GOOD)
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="count-added">2<' in preview and 'id="count-problems">0<' in preview
    import_id = int(response.headers["Location"].rsplit("/", 1)[1])
    applied = post(client, f"/nudges/roster/{import_id}/apply")
    assert applied.status_code == 303
    assert "2 added, 0 changed, 0 unchanged" in client.get("/nudges/roster").get_data(as_text=True)
    assert roster_count() == 2
    assert db.session.get(User, ben.id).team.name == "Support"
    assert "2 people on the roster, of whom 1 has no account yet" in client.get("/nudges/roster").get_data(as_text=True)

    # Re-importing shows what changes and what stays.
    changed = GOOD.replace("Ben Ode,ben@example.com,Support", "Ben Ode,ben@example.com,Sales")
    response = upload(client, changed + "Cy Vu,cy@example.com,Sales,\n")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="count-added">1<' in page and 'id="count-changed">1<' in page and 'id="count-unchanged">1<' in page
    assert "<td>team</td>" in page


def test_apply_refuses_twice_with_bad_rows_or_after_the_roster_changed_and_then_changes_nothing(client):
    login_as(client, make_director())
    first = int(upload(client, GOOD).headers["Location"].rsplit("/", 1)[1])
    second = int(upload(client, GOOD + "Cy Vu,cy@example.com,Sales,\n").headers["Location"].rsplit("/", 1)[1])
    bad = int(upload(client, GOOD + "No Email,,Sales,\n").headers["Location"].rsplit("/", 1)[1])
    assert post(client, f"/nudges/roster/{bad}/apply").status_code == 409
    assert roster_count() == 0
    assert post(client, f"/nudges/roster/{second}/apply").status_code == 303
    assert roster_count() == 3
    again = post(client, f"/nudges/roster/{second}/apply")
    assert again.status_code == 409 and "already been applied" in again.get_data(as_text=True)
    stale = post(client, f"/nudges/roster/{first}/apply")
    assert stale.status_code == 409 and "changed after this preview" in stale.get_data(as_text=True)
    assert db.session.get(RosterImport, first).applied_at is None


def test_a_failure_halfway_through_apply_leaves_the_roster_untouched(client, monkeypatch):
    login_as(client, make_director())
    make_user(email="ben@example.com", team="Data")
    import_id = int(upload(client, GOOD).headers["Location"].rsplit("/", 1)[1])

    def broken(name):
        raise RuntimeError("the database went away")

    # Ana's row is added first; Ben's account then needs a new team and the apply breaks.
    monkeypatch.setattr(roster_module, "get_or_create_team", broken)
    with pytest.raises(RuntimeError):
        post(client, f"/nudges/roster/{import_id}/apply")
    db.session.rollback()
    assert roster_count() == 0
    assert db.session.get(RosterImport, import_id).applied_at is None


def test_a_file_that_is_not_utf8_is_refused_kindly_and_a_bom_is_fine(client):
    login_as(client, make_director())
    latin = "name,email,team\nJos\u00e9 P\u00e9rez,jose@example.com,Ventas\n".encode("latin-1")
    response = upload(client, latin)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="file-error"' in page and "not saved as UTF-8" in page and 'aria-invalid="true"' in page
    assert db.session.scalar(select(func.count()).select_from(RosterImport)) == 0
    with_bom = "\ufeffname,email,team\nJos\u00e9 P\u00e9rez,jose@example.com,Ventas\n".encode()
    response = upload(client, with_bom)
    assert response.status_code == 303
    assert "Jos\u00e9 P\u00e9rez" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_huge_file_is_refused_with_413_before_it_is_read(client):
    login_as(client, make_director())
    big = b"name,email,team\n" + b"x" * (roster_module.MAX_BYTES + 100_000)
    response = upload(client, big)
    assert response.status_code == 413
    assert "larger than 2 MB" in response.get_data(as_text=True)
    # Just over the limit, but within the request allowance: the service refuses it too.
    response = upload(client, b"name,email,team\n" + b"y" * (roster_module.MAX_BYTES + 10))
    assert response.status_code == 413
    assert db.session.scalar(select(func.count()).select_from(RosterImport)) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "name,email,team,shoe_size\nAna,ana@example.com,Support,38\n",
            "column we do not know: \u201cshoe_size",
        ),
        ("name,team\nAna,Support\n", "must name the column \u201cemail\u201d"),
        ("name;email;team\nAna;ana@example.com;Support\n", "separated by semicolons"),
        ("", "This file is empty"),
    ],
)
def test_a_file_with_unknown_or_missing_columns_is_refused(client, text, message):
    login_as(client, make_director())
    response = upload(client, text)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_more_rows_than_allowed_are_refused(client, monkeypatch):
    monkeypatch.setattr(roster_module, "MAX_ROWS", 2)
    login_as(client, make_director())
    response = upload(client, GOOD + "Cy Vu,cy@example.com,Sales,\n")
    assert response.status_code == 422
    assert "more than 2 people" in response.get_data(as_text=True)


def test_formula_looking_cells_are_kept_as_text_and_exported_harmlessly(client):
    login_as(client, make_director())
    text = (
        "name,email,team\n"
        '"=HYPERLINK(""http://evil.example"",""click"")",formula@example.com,Support\n'
        "+SUM(A1:A9),,Support\n"
        "@cmd,-bad-email,Support\n"
    )
    response = upload(client, text)
    import_id = int(response.headers["Location"].rsplit("/", 1)[1])
    stored = db.session.get(RosterImport, import_id)
    assert stored.rows[0][1] == '=HYPERLINK("http://evil.example","click")'  # plain text, unchanged
    export = client.get(f"/nudges/roster/{import_id}/problems.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    lines = export.get_data(as_text=True).splitlines()
    assert lines[0] == "line,reason,name,email,team,manager_email"
    assert lines[1].startswith("3,The email is missing.,'+SUM(A1:A9),")
    assert lines[2].startswith("4,The email does not look like an email address.,'@cmd,'-bad-email,")
    assert roster_module.spreadsheet_safe("=1+1") == "'=1+1"
    assert roster_module.spreadsheet_safe("Ana") == "Ana"


def test_the_roster_is_for_the_director_only(client):
    login_as(client, make_user())
    assert client.get("/nudges/roster").status_code == 403
    assert upload(client, GOOD).status_code == 403
    assert roster_count() == 0


# --- managers and quiet-friendly matching -------------------------------------------------------------------


def test_a_mentee_is_never_recommended_their_own_manager(client):
    from portal.matches.services import recommendations_for

    cycle = make_cycle()
    shared = {"values": ["curiosity", "kindness"], "skills_offer": ["negotiation"], "formats": ["video"]}
    manager = make_user(team="Design", email="boss@example.com", display_name="Boss Person")
    answer(manager, **shared)
    enrol(manager, cycle, "mentor")
    other = make_user(team="Sales", display_name="Other Mentor")
    answer(other, values=["curiosity"], skills_offer=["negotiation"])
    enrol(other, cycle, "mentor")
    report = make_user(team="Data", email="report@example.com")
    answer(report, values=["curiosity", "kindness"], skills_grow=["negotiation"], formats=["video"])
    enrol(report, cycle, "mentee")
    before = [r.mentor.id for r in recommendations_for(report, cycle)]
    assert before[0] == manager.id  # the best fit by score, until the roster says who manages whom

    make_roster_entry(email="boss@example.com", name="Boss Person", team="Design")
    make_roster_entry(email="report@example.com", name="Report", team="Data", manager_email="boss@example.com")
    after = [r.mentor.id for r in recommendations_for(report, cycle)]
    assert manager.id not in after and other.id in after


def test_a_written_first_mentee_is_only_recommended_mentors_who_write(client):
    from portal.matches.services import recommendations_for

    cycle = make_cycle()
    talker = make_user(team="Design")
    answer(talker, values=["curiosity"], skills_offer=["negotiation"], formats=["video", "in_person"])
    enrol(talker, cycle, "mentor")
    writer = make_user(team="Sales")
    answer(writer, skills_offer=["delegation"], formats=["written", "video"])
    enrol(writer, cycle, "mentor")
    quiet = make_user(team="Data")
    answer(quiet, values=["curiosity"], skills_grow=["negotiation"], formats=["written"], start=["written_intro"])
    enrol(quiet, cycle, "mentee")
    assert [r.mentor.id for r in recommendations_for(quiet, cycle)] == [writer.id]


# --- sending a nudge ----------------------------------------------------------------------------------------


def test_a_colleague_nudges_someone_who_gets_a_private_card_and_one_email(client):
    sender = make_user(display_name="Sam Sender")
    noor = make_user(display_name="Noor Quiet", email="noor@example.com")
    login_as(client, sender)
    response = nudge_form(client, f"u{noor.id}", "I think you'd be a wonderful mentor for new analysts.")
    assert response.status_code == 303
    assert "Your note to Noor Quiet is delivered" in client.get(response.headers["Location"]).get_data(as_text=True)
    (email,) = emails_to("noor@example.com")
    assert "Sam Sender thought of you" in email.body
    note = db.session.scalar(select(Notification).where(Notification.user_id == noor.id))
    assert note.message == "Sam Sender wrote you a short note about mentoring."

    login_as(client, noor)
    card = client.get(note.link)
    page = card.get_data(as_text=True)
    assert card.status_code == 200
    assert "A note from Sam Sender" in page and "wonderful mentor for new analysts" in page
    for choice in ("I’m interested", "Tell me more", "Not now", "No thanks"):
        assert f">{choice}</button>" in page
    assert 'hx-history="false"' in page
    assert db.session.scalar(select(Nudge.opened_at)) is not None


def test_an_anonymous_nudge_never_names_its_sender_to_the_recipient(client):
    sender = make_user(display_name="Secret Santa")
    noor = make_user(email="noor@example.com")
    login_as(client, sender)
    assert nudge_form(client, f"u{noor.id}", "You explain things so clearly.", show_name="colleague").status_code == 303
    (email,) = emails_to("noor@example.com")
    assert "Secret Santa" not in email.body and "A colleague thought of you" in email.body
    note = db.session.scalar(select(Notification).where(Notification.user_id == noor.id))
    assert "Secret Santa" not in note.message
    login_as(client, noor)
    page = client.get(note.link).get_data(as_text=True)
    assert "A note from a colleague" in page and "Secret Santa" not in page
    assert "Secret Santa" not in client.get("/nudges/settings").get_data(as_text=True)
    # The director can always see who sent it, but never the answer.
    post(client, note.link, {"choice": "no_thanks"})
    login_as(client, make_director())
    sent = client.get("/nudges/sent").get_data(as_text=True)
    assert "Secret Santa" in sent and "“a colleague”" in sent
    assert "no thanks" not in sent.lower() and "declined" not in sent.lower()


def test_the_sender_only_learns_that_the_note_was_delivered(client):
    sender = make_user()
    noor = make_user(email="noor@example.com")
    nudge = make_nudge(sender, noor.email, answer="no_thanks")
    login_as(client, sender)
    assert client.get(f"/nudges/cards/{nudge.id}").status_code == 404
    assert post(client, f"/nudges/cards/{nudge.id}", {"choice": "interested"}).status_code == 404
    notes = db.session.scalars(select(Notification.message).where(Notification.user_id == sender.id)).all()
    assert not any("thanks" in n.lower() or "interested" in n.lower() for n in notes)


def test_a_note_is_required_and_kept_to_600_characters(client):
    sender = make_user()
    noor = make_user()
    login_as(client, sender)
    response = nudge_form(client, f"u{noor.id}", "")
    assert response.status_code == 422
    assert 'id="message-error"' in response.get_data(as_text=True)
    long_note = "Because " + "you listen well. " * 40
    response = nudge_form(client, f"u{noor.id}", long_note)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "600 characters" in page
    assert "you listen well." in page  # what they typed is kept
    assert db.session.scalar(select(func.count()).select_from(Nudge)) == 0


def without_tokens(page: str) -> str:
    """The page with every CSRF token blanked, wherever it sits: tokens are signed with the time, so two
    otherwise identical pages differ by them from one second to the next."""
    tokens = re.findall(r'"X-CSRFToken": "([^"]+)"', page)
    tokens += re.findall(r"<(?:input|meta)[^>]*csrf[^>]*>", page)
    for tag_or_token in tokens:
        page = page.replace(tag_or_token, "TOKEN")
    return page


def refused(client, recipient_key: str):
    response = nudge_form(client, recipient_key)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert KIND_REFUSAL in page
    return page


def test_one_nudge_per_person_in_90_days_from_anyone(client):
    first, second = make_user(), make_user()
    noor = make_user(email="noor@example.com")
    old = make_nudge(first, noor.email, days_ago=10)
    login_as(client, second)
    refused(client, f"u{noor.id}")
    assert db.session.scalar(select(func.count()).select_from(Nudge)) == 1
    old.created_at = utcnow() - timedelta(days=91)
    db.session.commit()
    assert nudge_form(client, f"u{noor.id}").status_code == 303


def test_not_now_pauses_nudges_for_the_months_chosen_even_beyond_90_days(client):
    sender, later_sender = make_user(), make_user()
    noor = make_user(email="noor@example.com")
    nudge = make_nudge(sender, noor.email)
    login_as(client, noor)
    response = post(client, f"/nudges/cards/{nudge.id}", {"choice": "not_now", "months": "6"})
    assert response.status_code == 303
    assert "Nobody can nudge you until the pause ends" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    nudge.created_at = utcnow() - timedelta(days=100)  # the 90 days are over, the pause is not
    db.session.commit()
    login_as(client, later_sender)
    refused(client, f"u{noor.id}")
    from portal.models import NudgePreference

    preference = db.session.get(NudgePreference, noor.id)
    assert preference.snoozed_until == add_months(today(), 6)
    preference.snoozed_until = today() - timedelta(days=1)
    db.session.commit()
    assert nudge_form(client, f"u{noor.id}").status_code == 303


def test_not_now_needs_a_length_of_1_3_or_6_months(client):
    noor = make_user(email="noor@example.com")
    nudge = make_nudge(make_user(), noor.email)
    login_as(client, noor)
    response = post(client, f"/nudges/cards/{nudge.id}", {"choice": "not_now", "months": "12"})
    assert response.status_code == 422
    assert 'id="months-error"' in response.get_data(as_text=True)
    assert db.session.get(Nudge, nudge.id).answer is None


def test_no_thanks_stops_nudges_for_good_until_the_person_undoes_it(client):
    noor = make_user(email="noor@example.com")
    nudge = make_nudge(make_user(), noor.email)
    login_as(client, noor)
    assert post(client, f"/nudges/cards/{nudge.id}", {"choice": "no_thanks"}).status_code == 303
    nudge.created_at = utcnow() - timedelta(days=800)
    db.session.commit()
    login_as(client, make_user())
    refused(client, f"u{noor.id}")
    login_as(client, noor)
    settings = client.get("/nudges/settings").get_data(as_text=True)
    assert "Undo my “no thanks”" in settings
    assert post(client, "/nudges/settings", {"action": "undo_no"}).status_code == 303
    login_as(client, make_user())
    assert nudge_form(client, f"u{noor.id}").status_code == 303


def test_a_person_can_switch_nudges_off_and_on(client):
    noor = make_user(email="noor@example.com")
    login_as(client, noor)
    response = post(client, "/nudges/settings", {"action": "off"}, htmx=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page
    assert 'id="nudge-settings"' in page and "switched off" in page and 'hx-swap-oob="innerHTML:#status"' in page
    login_as(client, make_user())
    refused(client, f"u{noor.id}")
    login_as(client, noor)
    post(client, "/nudges/settings", {"action": "on"})
    login_as(client, make_user())
    assert nudge_form(client, f"u{noor.id}").status_code == 303


def test_nobody_can_nudge_themself_or_someone_enrolled(client):
    cycle = make_cycle()
    me = make_user()
    enrolled = make_user()
    enrol(enrolled, cycle, "mentee")
    login_as(client, me)
    refused(client, f"u{me.id}")
    refused(client, f"u{enrolled.id}")
    assert why_not(me, get_recipient(f"u{me.id}"), now=utcnow()) == "self"
    assert why_not(me, get_recipient(f"u{enrolled.id}"), now=utcnow()) == "enrolled"


def test_every_refusal_reads_the_same_so_no_choice_is_revealed(client):
    sender = make_user()
    pages = []
    for setup in ("recent", "not_now", "no_thanks", "off"):
        person = make_user(display_name="Same Name")
        if setup == "recent":
            make_nudge(make_user(), person.email)
        elif setup == "off":
            login_as(client, person)
            post(client, "/nudges/settings", {"action": "off"})
        else:
            nudge = make_nudge(make_user(), person.email, days_ago=100)
            login_as(client, person)
            post(client, f"/nudges/cards/{nudge.id}", {"choice": setup, "months": "3"})
        login_as(client, sender)
        page = refused(client, f"u{person.id}")
        # Tokens are signed with the second they were made, wherever they appear; ids differ by person.
        pages.append(re.sub(r"[\w-]{20,}\.[\w-]{4,}\.[\w-]{10,}|u\d+", "", without_tokens(page)))
    assert len(set(pages)) == 1, "a refusal reads differently and so reveals a choice"
    assert REFUSAL == KIND_REFUSAL


def test_the_search_lists_people_not_enrolled_without_hiding_anyone_who_said_no(client):
    cycle = make_cycle()
    me = make_user(display_name="Me Myself")
    said_no = make_user(display_name="Robin Declined")
    make_nudge(make_user(), said_no.email, answer="no_thanks")
    busy = make_user(display_name="Robin Enrolled")
    enrol(busy, cycle, "mentee")
    make_roster_entry(email="robin.invited@example.com", name="Robin Invited")
    login_as(client, me)
    page = client.get("/nudges/new?q=robin").get_data(as_text=True)
    assert "Write to Robin Declined" in page and "Write to Robin Invited" in page
    assert "not on the portal yet" in page and "Robin Enrolled" not in page
    fragment = client.get("/nudges/new?q=rob", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "Write to Robin Invited" in fragment


def test_a_sender_is_limited_to_five_delivered_nudges_a_day(client):
    sender = make_user()
    people = [make_user() for _ in range(6)]
    login_as(client, sender)
    for person in people[:5]:
        assert nudge_form(client, f"u{person.id}").status_code == 303
    response = nudge_form(client, f"u{people[5].id}")
    assert response.status_code == 429
    assert "pause for a moment" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Nudge)) == 5


# --- the card's choices -----------------------------------------------------------------------------------


def test_interested_leads_into_the_questionnaire_prefilled_with_the_suggested_role(client):
    from portal.onboarding.services import load_state

    noor = make_user(email="noor@example.com")
    login_as(client, make_user())
    nudge_form(client, f"u{noor.id}", suggested_role="mentor")
    nudge = db.session.scalar(select(Nudge))
    login_as(client, noor)
    response = post(client, f"/nudges/cards/{nudge.id}", {"choice": "interested"}, htmx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/onboarding/"
    assert load_state(noor)["participation"].keys == {"mentor"}
    assert client.get("/onboarding/").headers["Location"].endswith("/onboarding/step/skills_grow")


def test_interested_never_overwrites_an_answer_already_given(client):
    from portal.onboarding.services import load_state

    noor = make_user(email="noor@example.com")
    answer(noor, participation=["mentee"])
    nudge = make_nudge(make_user(), noor.email)
    nudge.suggested_role = "mentor"
    db.session.commit()
    login_as(client, noor)
    assert post(client, f"/nudges/cards/{nudge.id}", {"choice": "interested"}).status_code == 303
    assert load_state(noor)["participation"].keys == {"mentee"}


def test_tell_me_more_sends_the_directors_note_and_is_counted_without_a_name(client):
    make_director(display_name="Dana Whitfield")
    noor = make_user(email="noor@example.com")
    nudge = make_nudge(make_user(), noor.email)
    login_as(client, noor)
    response = post(client, f"/nudges/cards/{nudge.id}", {"choice": "more"}, htmx=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page and 'id="nudge-card"' in page
    assert "A short note from the program director is on its way" in page
    (email,) = emails_to("noor@example.com")
    assert "30 minutes a month" in email.body and "Dana Whitfield, program director" in email.body
    told = db.session.scalars(select(Notification.message).where(Notification.user_id == noor.id)).all()
    assert any("A short note from the program director" in message for message in told)
    assert db.session.scalar(select(func.count()).where(InterestEvent.kind == InterestKind.MORE)) == 1
    post(client, f"/nudges/cards/{nudge.id}", {"choice": "more"})  # pressed twice: one note, one count
    assert len(emails_to("noor@example.com")) == 1
    assert db.session.scalar(select(func.count()).where(InterestEvent.kind == InterestKind.MORE)) == 1


# --- the email, the signed links and claiming an account ------------------------------------------------


def test_the_email_arrives_over_smtp_with_a_working_signed_link(client, smtp_server):  # noqa: F811
    noor = make_user(email="noor@example.com")
    login_as(client, make_user(display_name="Sam Sender"))
    nudge_form(client, f"u{noor.id}", "Your code reviews are so kind.")
    db.session.commit()
    assert deliver_pending() == (0, 0)  # the queue sent it as the request ended
    (message,) = smtp_server.messages
    assert message["To"] == "noor@example.com" and message["Subject"] == "A colleague thought of you"
    path = link_in(message.get_payload(decode=True).decode())
    anonymous = client.application.test_client()  # a fresh browser: nobody signed in
    response = anonymous.get(path)
    assert response.status_code == 303 and "/accounts/sign-in" in response.headers["Location"]
    login_as(anonymous, noor)
    response = anonymous.get(path)
    assert response.status_code == 303
    card = anonymous.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your code reviews are so kind." in card


def test_an_invited_person_claims_their_account_through_the_emailed_link(client, smtp_server):  # noqa: F811
    make_roster_entry(email="ines@example.com", name="Ines Moreau", team="Design")
    login_as(client, make_user(display_name="Sam Sender"))
    key = client.get("/nudges/new?q=ines").get_data(as_text=True)
    assert "Write to Ines Moreau" in key
    entry_key = re.search(r"to=(r\d+)", key).group(1)
    assert nudge_form(client, entry_key, "You would make a great mentor.", suggested_role="mentee").status_code == 303
    db.session.commit()
    assert deliver_pending() == (0, 0)  # the queue sent it as the request ended
    (message,) = smtp_server.messages
    path = link_in(message.get_payload(decode=True).decode())
    assert path.startswith("/nudges/claim/")

    visitor = client.application.test_client()
    form = visitor.get(path)
    page = form.get_data(as_text=True)
    assert form.status_code == 200 and 'value="Ines Moreau"' in page and "ines@example.com" in page
    weak = post(visitor, path, {"display_name": "Ines M.", "password": "password"})
    assert weak.status_code == 422 and 'value="Ines M."' in weak.get_data(as_text=True)
    done = post(visitor, path, {"display_name": "Ines M.", "password": "sunlight over quiet hills"})
    assert done.status_code == 303 and "/nudges/cards/" in done.headers["Location"]
    card = visitor.get(done.headers["Location"]).get_data(as_text=True)
    assert "You would make a great mentor." in card
    ines = db.session.scalar(select(User).where(User.email == "ines@example.com"))
    assert ines.display_name == "Ines M." and ines.team.name == "Design"

    again = client.application.test_client().get(path)
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)


def test_a_tampered_or_expired_link_gets_a_kind_page_and_changes_nothing(client, monkeypatch):
    entry = make_roster_entry(email="ines@example.com", name="Ines Moreau")
    token = claim_token(entry.id)
    tampered = client.get(f"/nudges/claim/{token[:-3]}abc")
    assert tampered.status_code == 400 and "This link does not work" in tampered.get_data(as_text=True)
    assert client.get("/nudges/open/nonsense").status_code == 400
    # Links made 15 days ago have expired.
    import itsdangerous.timed

    real_time = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() - 15 * 24 * 3600)
    old_claim, old_card = claim_token(entry.id), card_token(1)
    monkeypatch.undo()
    expired = client.get(f"/nudges/claim/{old_claim}")
    assert expired.status_code == 410 and "This link has expired" in expired.get_data(as_text=True)
    assert post(client, f"/nudges/claim/{old_claim}", {"display_name": "X", "password": "a" * 20}).status_code == 410
    assert client.get(f"/nudges/open/{old_card}").status_code == 410
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_a_card_is_private_to_its_recipient(client):
    noor = make_user(email="noor@example.com")
    nudge = make_nudge(make_user(), noor.email)
    login_as(client, make_director())
    assert client.get(f"/nudges/cards/{nudge.id}").status_code == 404
    assert client.get(f"/nudges/open/{card_token(nudge.id)}").status_code == 404


# --- just curious -----------------------------------------------------------------------------------------


def test_the_home_page_shows_the_quiet_link_only_to_people_not_enrolled(client):
    cycle = make_cycle()
    person = make_user()
    login_as(client, person)
    assert "Curious about mentoring?" in client.get("/").get_data(as_text=True)
    enrol(person, cycle, "mentee")
    assert "Curious about mentoring?" not in client.get("/").get_data(as_text=True)


def test_the_curious_page_counts_visits_without_knowing_who(client):
    poster = make_user(display_name="Priya Shah")
    make_post(poster, text="Our pair finished the negotiation plan, on time.")
    person = make_user()
    login_as(client, person)
    page = client.get("/nudges/curious").get_data(as_text=True)
    assert "30 minutes a month" in page and "Our pair finished the negotiation plan" in page
    assert ">Start the questionnaire<" in page and ">Tell me more<" in page and ">Not now<" in page
    client.get("/nudges/curious")  # the same person the same day counts once
    events = db.session.scalars(select(InterestEvent)).all()
    assert [(e.kind, e.occurred_on) for e in events] == [(InterestKind.VISIT, today())]
    assert not hasattr(InterestEvent, "user_id")


def test_the_curious_choices(client):
    make_director()
    person = make_user(email="quiet@example.com")
    login_as(client, person)
    more = post(client, "/nudges/curious", {"choice": "more"})
    assert more.status_code == 303
    assert "on its way to your email" in client.get(more.headers["Location"]).get_data(as_text=True)
    assert len(emails_to("quiet@example.com")) == 1
    later = post(client, "/nudges/curious", {"choice": "not_now"})
    assert later.headers["Location"] == "/"
    start = post(client, "/nudges/curious", {"choice": "start"})
    assert start.headers["Location"] == "/onboarding/"
    assert post(client, "/nudges/curious", {"choice": "sign me up"}).status_code == 400


# --- the director's numbers -------------------------------------------------------------------------------


def test_the_directors_numbers_hide_small_groups_and_never_list_who_declined(client):
    director = make_director()
    sender = make_user()
    people = [make_user(display_name=f"Quiet {n}") for n in range(7)]
    login_as(client, director)
    make_nudge(sender, people[0].email, answer="no_thanks", days_ago=2)
    page = client.get("/nudges/overview").get_data(as_text=True)
    assert "Fewer than 5 invitations so far" in page and "Quiet 0" not in page
    for person in people[1:6]:
        nudge = make_nudge(sender, person.email, answer="not_now", days_ago=2)
        nudge.opened_at = utcnow() - timedelta(days=2)
    db.session.commit()
    page = client.get("/nudges/overview").get_data(as_text=True)
    assert "<dt>Invitations sent</dt><dd>6</dd>" in page
    assert "<dt>Chose “not now”</dt><dd>5 (83%)</dd>" in page
    assert "<dt>Chose “no thanks”</dt><dd>fewer than 5</dd>" in page
    assert "<dt>Opened</dt><dd>5 (83%)</dd>" in page
    assert "Quiet" not in page


def test_one_answer_today_does_not_move_the_directors_numbers_until_tomorrow(client):
    director, sender = make_director(), make_user()
    people = [make_user() for _ in range(8)]
    login_as(client, director)
    for person in people[:6]:
        make_nudge(sender, person.email, answer="not_now", days_ago=3)
    make_nudge(sender, people[6].email, days_ago=3)
    before = client.get("/nudges/overview").get_data(as_text=True)
    assert "<dt>Chose “not now”</dt><dd>6 (86%)</dd>" in before
    # Someone answers this morning: the director, who can see who was invited, must not see it move today.
    nudge = db.session.scalar(select(Nudge).where(Nudge.recipient_email == people[6].email))
    nudge.answer, nudge.answered_at = NudgeAnswer.NOT_NOW, utcnow()
    db.session.commit()
    assert client.get("/nudges/overview").get_data(as_text=True) == before
    assert "who was nudged" not in before and "/nudges/sent" not in before


def test_joined_counts_people_who_enrolled_after_their_nudge(client):
    from portal.nudges.services import nudge_figures

    cycle = make_cycle()
    sender = make_user()
    people = [make_user() for _ in range(5)]
    for person in people:
        make_nudge(sender, person.email, days_ago=3)
        enrol(person, cycle, "mentee")
    sent, figures = nudge_figures()
    assert sent == 5 and {f.label: f.count for f in figures}["Joined a cycle"] == 5


def test_joined_counts_each_nudge_once_and_only_enrolments_after_it_and_before_the_figures_day(client):
    from portal.nudges.services import figures_as_of, nudge_figures

    first, second = make_cycle(), make_cycle(name="Autumn", current=False)
    sender = make_user()
    twice, before, today_only, twice_nudged = (make_user() for _ in range(4))
    days = lambda n: utcnow() - timedelta(days=n)  # noqa: E731
    make_nudge(sender, twice.email, days_ago=5)
    for cycle in (first, second):  # two enrolments after one nudge: still one nudge that led somewhere
        enrol(twice, cycle).created_at = days(3)
    enrol(before, first).created_at = days(9)  # enrolled before the nudge came
    make_nudge(sender, before.email, days_ago=5)
    make_nudge(sender, today_only.email, days_ago=5)
    enrol(today_only, first)  # this morning: after the figures' day began
    make_nudge(sender, twice_nudged.email, days_ago=6)
    make_nudge(sender, twice_nudged.email, days_ago=4)
    enrol(twice_nudged, first).created_at = days(2)  # after both of them: each counts
    db.session.commit()

    sent, figures = nudge_figures(figures_as_of())
    assert sent == 5 and {f.label: f.count for f in figures}["Joined a cycle"] == 3
    assert {f.label: f.count for f in nudge_figures()[1]}["Joined a cycle"] == 4  # as of now


def test_director_lists_take_a_fixed_number_of_queries(client):
    login_as(client, make_director())
    sender = make_user()
    make_nudge(sender, "a@example.com")
    with count_queries() as few:
        client.get("/nudges/sent")
        client.get("/nudges/overview")
        client.get("/nudges/roster")
    for n in range(30):
        make_nudge(sender, f"p{n}@example.com", show_name=n % 2 == 0)
        make_roster_entry(email=f"p{n}@example.com", name=f"P {n}")
    with count_queries() as many:
        client.get("/nudges/sent")
        client.get("/nudges/overview")
        client.get("/nudges/roster")
    assert many[0] == few[0]


def test_send_nudge_service_refuses_the_same_way_whatever_the_reason(app):
    from portal.nudges.services import CannotNudge

    sender = make_user()
    target = make_user()
    make_nudge(make_user(), target.email, days_ago=5)
    with app.test_request_context():
        with pytest.raises(CannotNudge) as refusal:
            send_nudge(
                sender, get_recipient(f"u{target.id}"), message="Hi", suggested_role=None, show_name=True, now=utcnow()
            )
    assert refusal.value.reason == "recent" and refusal.value.message == KIND_REFUSAL


def test_demo_data_has_a_roster_with_invited_people_nudges_in_each_state_and_visits(app):
    from portal.nudges.roster import roster_size

    result = app.test_cli_runner().invoke(args=["seed-demo", "--password", "demo password phrase"])
    assert result.exit_code == 0, result.output
    total, invited = roster_size()
    assert total > 80 and invited >= 10
    answers = set(db.session.scalars(select(Nudge.answer).distinct()))
    assert answers == {None, *NudgeAnswer}
    assert db.session.scalar(select(func.count()).where(InterestEvent.kind == InterestKind.VISIT)) >= 20


def test_choosing_someone_who_cannot_be_nudged_says_so_at_once_in_the_same_words(client):
    cycle = make_cycle()
    sender = make_user()
    enrolled = make_user(display_name="Busy Person")
    enrol(enrolled, cycle, "mentee")
    said_no = make_user(display_name="Quiet Person")
    make_nudge(make_user(), said_no.email)  # nudged by someone else this week
    free = make_user(display_name="Free Person")
    login_as(client, sender)
    pages = []
    for person in (enrolled, said_no):
        page = client.get(f"/nudges/new?to=u{person.id}").get_data(as_text=True)
        assert KIND_REFUSAL in page
        assert 'name="message"' not in page  # nothing to write in vain
        main = page[page.index("<main") : page.index("</main>")]
        pages.append(re.sub(r"Busy Person|Quiet Person|u\d+", "", without_tokens(main)))
    assert pages[0] == pages[1]
    page = client.get(f"/nudges/new?to=u{free.id}").get_data(as_text=True)
    assert 'name="message"' in page and KIND_REFUSAL not in page


def test_the_sent_list_pages_newest_first_without_gaps_or_repeats(client):
    from portal.nudges.services import sent_page

    sender = make_user(display_name="Kim Sender")
    for n in range(7):
        make_nudge(sender, f"page{n}@example.com", days_ago=n)
    pages = [sent_page(page, per_page=3) for page in (1, 2, 3)]
    emails = [row.recipient for rows, _ in pages for row in rows]
    assert emails == [f"page{n}@example.com" for n in range(7)]
    assert {total for _, total in pages} == {7}
    assert all(row.sender_name == "Kim Sender" for rows, _ in pages for row in rows)


@pytest.mark.parametrize("key", ["", "x12", "u", "uabc", "u12x", "r-1", "u999999", "r999999"])
def test_a_malformed_or_unknown_person_key_finds_nobody(key):
    with pytest.raises(LookupError):
        get_recipient(key)
