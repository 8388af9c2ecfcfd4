"""The celebration wall: shared only by choice, reactions, kudos, care, browsing, and a fixed query count."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.celebrations.services import (
    TEXT_MAX,
    Cursor,
    accept_kudos,
    give_kudos,
    propose_celebration,
    set_reaction,
)
from portal.celebrations.text import linkify
from portal.clock import today, utcnow
from portal.errors import Conflict
from portal.extensions import db
from portal.goals.services import GoalInput, add_milestone, create_goal
from portal.models import (
    Celebration,
    CelebrationAudience,
    CelebrationKind,
    CelebrationReaction,
    CelebrationStatus,
    Notification,
    User,
)
from tests.conftest import count_queries, login_as, post
from tests.factories import make_cycle, make_director, make_pairing, make_post, make_user


def notes_for(user):
    return [
        (n.message, n.link) for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id))
    ]


def wall(client, url="/celebrations/"):
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def reload(post):
    db.session.expire_all()
    return db.session.get(Celebration, post.id)


# --- text ----------------------------------------------------------------------------------------------


def test_linkify_escapes_everything_and_links_only_web_addresses():
    html = str(linkify('<script>alert("x")</script> see https://example.com/a?b=1&c=2. and javascript:alert(1)'))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert (
        '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener">https://example.com/a?b=1&amp;c=2</a>.'
        in html
    )
    assert "javascript:alert(1)" in html and 'href="javascript' not in html


def test_linkify_does_not_let_an_address_break_out_of_its_attribute():
    html = str(linkify('http://x.test/"onmouseover="alert(1) (see http://wiki.test/A_(b))'))
    assert 'href="http://x.test/"' in html  # the quote ends the address; it is never inside the attribute
    assert "onmouseover=&#34;" in html
    assert '<a href="http://wiki.test/A_(b)" rel="nofollow noopener">' in html


# --- proposals (the lead's goals call this) --------------------------------------------------------------


def test_propose_celebration_creates_a_private_proposal_and_asks_the_person(client):
    cycle = make_cycle()
    pairing = make_pairing(cycle=cycle)
    mentee = db.session.get(type(pairing).mentee.property.mapper.class_, pairing.mentee_id)
    proposal = propose_celebration(
        mentee,
        kind="milestone",
        text="I reached a milestone: first draft",
        pairing_id=pairing.id,
        skill_key="negotiation",
    )
    db.session.commit()
    assert proposal.status == CelebrationStatus.PROPOSED
    assert proposal.cycle_id == cycle.id and proposal.skill_key == "negotiation"
    assert notes_for(mentee) == [("Would you like to celebrate this on the wall?", f"/celebrations/{proposal.id}")]
    # Nobody sees it on the wall, the person themself included, until they choose.
    login_as(client, make_user())
    assert "first draft" not in wall(client)
    login_as(client, mentee)
    assert "first draft" not in wall(client)
    assert "1 celebration waits for your choice" in wall(client)


def test_the_same_milestone_is_proposed_once_and_long_text_is_trimmed_to_the_limit():
    pairing = make_pairing()
    user = db.session.get(User, pairing.mentee_id)
    data = GoalInput(title="Calm", outcome="o", measure="m", target="t", due_on=today() + timedelta(days=20),
                     project="p", skills=["negotiation"])  # fmt: skip
    goal = create_goal(pairing, user, data, today=today())
    step, other_step = (add_milestone(goal, pairing, user, title=t, due_on=None, today=today()) for t in "ab")
    about = {"pairing_id": pairing.id, "goal_id": goal.id}
    first = propose_celebration(user, kind="milestone", text="x" * (TEXT_MAX + 50), milestone_id=step.id, **about)
    assert len(first.text) == TEXT_MAX
    again = propose_celebration(user, kind="milestone", text="again", milestone_id=step.id, **about)
    assert again.id == first.id
    other = propose_celebration(user, kind="milestone", text="other", milestone_id=other_step.id, **about)
    assert other.id != first.id
    mine = select(func.count()).select_from(Celebration).where(Celebration.subject_id == user.id)
    assert db.session.scalar(mine) == 2
    achieved = propose_celebration(user, kind="goal", text="done", **about)
    assert propose_celebration(user, kind="goal", text="done again", **about).id == achieved.id
    assert propose_celebration(user, kind="goal", text="").text == "I achieved a goal."
    with pytest.raises(ValueError):
        propose_celebration(user, kind="kudos", text="no")
    with pytest.raises(ValueError):
        propose_celebration(user, kind="party", text="no")


def test_a_proposal_about_someone_elses_pairing_is_refused():
    pairing = make_pairing()
    with pytest.raises(LookupError):
        propose_celebration(make_user(), kind="milestone", text="not mine", pairing_id=pairing.id)


# --- sharing by choice -----------------------------------------------------------------------------------


def test_the_person_edits_and_shares_their_proposal_with_everyone(client):
    me = make_user(display_name="Priya Shah")
    proposal = propose_celebration(me, kind="milestone", text="I reached a milestone")
    db.session.commit()
    login_as(client, me)
    page = client.get(f"/celebrations/{proposal.id}").get_data(as_text=True)
    assert "Celebrate this?" in page and "I reached a milestone" in page
    response = post(
        client, f"/celebrations/{proposal.id}/share", {"text": "My first vendor call went well", "audience": "everyone"}
    )
    assert response.status_code == 303
    assert "on the wall" in client.get(response.headers["Location"]).get_data(as_text=True)
    login_as(client, make_user())
    assert "My first vendor call went well" in wall(client)


def test_sharing_empty_or_overlong_text_is_refused_with_the_words_kept(client):
    me = make_user()
    proposal = propose_celebration(me, kind="milestone", text="Prefilled")
    db.session.commit()
    login_as(client, me)
    response = post(client, f"/celebrations/{proposal.id}/share", {"text": "   ", "audience": "everyone"})
    assert response.status_code == 422
    assert "Please write a few words." in response.get_data(as_text=True)
    long = "word " * 120
    response = post(client, f"/celebrations/{proposal.id}/share", {"text": long, "audience": "everyone"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"Please keep it to {TEXT_MAX} characters" in page
    assert 'aria-invalid="true"' in page and long.strip() in page
    assert reload(proposal).status == CelebrationStatus.PROPOSED


def test_pair_only_posts_are_seen_by_the_pair_and_nobody_else(client):
    pairing = make_pairing()
    mentee, mentor = pairing.mentee_id, pairing.mentor_id
    mentee, mentor = db.session.get(User, mentee), db.session.get(User, mentor)
    proposal = propose_celebration(mentee, kind="milestone", text="Just for us", pairing_id=pairing.id)
    db.session.commit()
    login_as(client, mentee)
    assert (
        post(client, f"/celebrations/{proposal.id}/share", {"text": "Just for us two", "audience": "pair"}).status_code
        == 303
    )
    for person in (mentee, mentor):
        login_as(client, person)
        page = wall(client)
        assert "Shared with your pair" in page and "Just for us two" in page
        assert client.get(f"/celebrations/{proposal.id}").status_code == 200
    for person in (make_user(), make_director()):
        login_as(client, person)
        assert "Just for us two" not in wall(client)
        assert client.get(f"/celebrations/{proposal.id}").status_code == 404


def test_pair_only_is_refused_for_a_post_without_a_pairing(client):
    me = make_user()
    proposal = propose_celebration(me, kind="goal", text="Mine")
    db.session.commit()
    login_as(client, me)
    response = post(client, f"/celebrations/{proposal.id}/share", {"text": "Mine", "audience": "pair"})
    assert response.status_code == 422
    assert reload(proposal).status == CelebrationStatus.PROPOSED


def test_dismissing_a_proposal_keeps_it_private_for_good(client):
    me = make_user()
    proposal = propose_celebration(me, kind="milestone", text="Quiet progress")
    db.session.commit()
    login_as(client, me)
    assert post(client, f"/celebrations/{proposal.id}/dismiss").status_code == 303
    assert reload(proposal).status == CelebrationStatus.DISMISSED
    assert "Quiet progress" in client.get("/celebrations/mine").get_data(as_text=True)  # under "kept to yourself"
    login_as(client, make_user())
    assert "Quiet progress" not in wall(client)
    assert client.get(f"/celebrations/{proposal.id}").status_code == 404


# --- kudos ------------------------------------------------------------------------------------------------


def test_kudos_reach_the_wall_only_after_their_subject_accepts(client):
    priya = make_user(display_name="Priya Shah", email="priya@example.com")
    ben = make_user(display_name="Ben Okafor")
    login_as(client, ben)
    response = post(
        client,
        "/celebrations/kudos/new",
        {"to": "Priya@Example.com", "skill": "negotiation", "text": "Kudos to Priya for confident negotiation"},
    )
    assert response.status_code == 303
    kudos = db.session.scalar(select(Celebration).where(Celebration.kind == CelebrationKind.KUDOS))
    assert kudos.status == CelebrationStatus.PROPOSED
    assert notes_for(priya) == [
        ("Ben Okafor sent you kudos. Would you like them on the wall?", f"/celebrations/{kudos.id}")
    ]
    assert "confident negotiation" not in wall(client)
    login_as(client, priya)
    assert "Kudos for you" in client.get(f"/celebrations/{kudos.id}").get_data(as_text=True)
    assert post(client, f"/celebrations/{kudos.id}/accept").status_code == 303
    login_as(client, make_user())
    page = wall(client)
    assert "Kudos to Priya Shah" in page and "from Ben Okafor" in page and "Negotiation" in page


def test_declined_kudos_are_never_shown_and_the_giver_only_hears_delivered(client):
    priya = make_user(email="priya2@example.com")
    ben = make_user()
    kudos = give_kudos(ben, to="priya2@example.com", skill_key="feedback", text="Thanks for the kind feedback")
    db.session.commit()
    login_as(client, priya)
    response = post(client, f"/celebrations/{kudos.id}/dismiss")
    assert response.status_code == 303
    assert "nobody is told" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert notes_for(ben) == []
    login_as(client, ben)
    page = client.get(f"/celebrations/{kudos.id}").get_data(as_text=True)
    assert "Delivered" in page
    assert "declin" not in page.lower() and "kept" not in page.lower()
    mine = client.get("/celebrations/mine").get_data(as_text=True)
    assert "delivered" in mine and "declin" not in mine.lower()
    for person in (make_user(), make_director()):
        login_as(client, person)
        assert "kind feedback" not in wall(client)
        assert client.get(f"/celebrations/{kudos.id}").status_code == 404


@pytest.mark.parametrize(
    ("to", "skill", "text", "field", "message"),
    [
        ("nobody@example.com", "feedback", "Thanks", "to", "could not find anyone"),
        ("me@example.com", "feedback", "Thanks", "to", "Kudos are for someone else"),
        ("other@example.com", "", "Thanks", "skill", "choose the soft skill"),
        ("other@example.com", "flying", "Thanks", "skill", "one of the soft skills"),
        ("other@example.com", "feedback", "", "text", "Please write a few words."),
        ("other@example.com", "feedback", "x" * (TEXT_MAX + 1), "text", "Please keep it to"),
    ],
)
def test_bad_kudos_are_refused_with_a_clear_message(client, to, skill, text, field, message):
    me = make_user(email="me@example.com")
    make_user(email="other@example.com")
    login_as(client, me)
    response = post(client, "/celebrations/kudos/new", {"to": to, "skill": skill, "text": text})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert f'id="{field}-error"' in page
    assert db.session.scalar(select(func.count()).select_from(Celebration)) == 0


# --- reactions ---------------------------------------------------------------------------------------------


def test_a_reaction_is_given_once_however_often_it_is_sent_and_then_taken_back(client):
    shared = make_post(make_user(display_name="Asha Rao"))
    me = make_user()
    login_as(client, me)
    for _ in range(2):  # a double click gives the reaction once
        response = post(client, f"/celebrations/{shared.id}/react", {"kind": "heart", "on": "1"}, htmx=True)
        fragment = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "<html" not in fragment
        assert re.search(rf'id="react-{shared.id}-heart"[^>]*aria-pressed="true"', fragment)
        assert re.search(r'Heart <span class="reaction-count">1</span>', fragment)
        assert "Heart added." in fragment and 'hx-swap-oob="innerHTML:#status"' in fragment
        assert reload(shared).heart_count == 1
    # The pressed button's form now asks to take it back; the others still offer to give theirs.
    assert re.search(r'name="kind" value="heart">\s*<input type="hidden" name="on" value="0">', fragment)
    assert re.search(r'name="kind" value="clap">\s*<input type="hidden" name="on" value="1">', fragment)
    for _ in range(2):
        response = post(client, f"/celebrations/{shared.id}/react", {"kind": "heart", "on": "0"}, htmx=True)
        fragment = response.get_data(as_text=True)
        assert re.search(rf'id="react-{shared.id}-heart"[^>]*aria-pressed="false"', fragment)
        assert "reaction-count" not in fragment  # no "0" anywhere: a count shows only when there is one
        assert "Heart taken back." in fragment
        assert reload(shared).heart_count == 0
    assert db.session.scalar(select(func.count()).select_from(CelebrationReaction)) == 0


def test_a_reaction_form_that_does_not_say_give_or_take_back_changes_nothing(client):
    shared = make_post(make_user())
    login_as(client, make_user())
    for wanted in ({}, {"on": "toggle"}, {"on": "2"}):
        response = post(client, f"/celebrations/{shared.id}/react", {"kind": "clap", **wanted})
        assert response.status_code == 400
        assert "Please choose one of the reactions." in response.get_data(as_text=True)
    assert reload(shared).clap_count == 0
    assert db.session.scalar(select(func.count()).select_from(CelebrationReaction)) == 0


def test_without_javascript_a_reaction_is_a_form_post_that_returns_to_the_post(client):
    shared = make_post(make_user())
    login_as(client, make_user())
    url = f"/celebrations/{shared.id}/react"
    response = post(client, url, {"kind": "clap", "on": "1", "next": "/celebrations/?skill=focus"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/celebrations/?skill=focus#post-{shared.id}"
    response = post(
        client, f"/celebrations/{shared.id}/react", {"kind": "clap", "on": "1", "next": "https://evil.test/"}
    )
    assert response.headers["Location"] == f"/celebrations/#post-{shared.id}"
    assert reload(shared).clap_count == 1  # given once, though sent twice


def test_reactions_to_hidden_deleted_unknown_or_private_posts_change_nothing(client):
    author = make_user()
    hidden = make_post(author, hidden_at=utcnow())
    deleted = make_post(author, deleted_at=utcnow())
    proposal = make_post(author, status=CelebrationStatus.PROPOSED, published_at=None)
    login_as(client, make_user())
    for target in (hidden, deleted):
        response = post(client, f"/celebrations/{target.id}/react", {"kind": "clap", "on": "1"})
        assert response.status_code == 409
        assert "no longer on the wall" in response.get_data(as_text=True)
        htmx_response = post(client, f"/celebrations/{target.id}/react", {"kind": "clap", "on": "1"}, htmx=True)
        assert htmx_response.status_code == 409 and htmx_response.headers["HX-Reswap"] == "none"
    assert post(client, f"/celebrations/{proposal.id}/react", {"kind": "clap", "on": "1"}).status_code == 404
    assert post(client, "/celebrations/999999/react", {"kind": "clap", "on": "1"}).status_code == 404
    assert post(client, f"/celebrations/{make_post(author).id}/react", {"kind": "thumbs", "on": "1"}).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(CelebrationReaction)) == 0
    assert db.session.scalar(select(func.sum(Celebration.clap_count))) == 0


def test_reaction_spam_is_slowed_down_kindly(client):
    shared = make_post(make_user())
    login_as(client, make_user())
    token = client.get("/celebrations/").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', token).group(1)
    url = f"/celebrations/{shared.id}/react"
    for n in range(60):  # given, taken back, given, ... the sixtieth takes it back
        assert client.post(url, data={"kind": "clap", "on": str(1 - n % 2), "csrf_token": token}).status_code == 303
    response = client.post(url, data={"kind": "clap", "on": "1", "csrf_token": token})
    assert response.status_code == 429
    assert "a lot of reactions in a short time" in response.get_data(as_text=True)
    assert reload(shared).clap_count == 0  # the sixty-first, giving it again, changed nothing
    htmx_response = client.post(
        url, data={"kind": "clap", "on": "1", "csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert htmx_response.status_code == 429 and "a lot of reactions" in htmx_response.get_data(as_text=True)


def test_the_reaction_service_refuses_reactions_before_sharing():
    me = make_user()
    pairing = make_pairing(mentee=me)
    pair_post = make_post(me, audience=CelebrationAudience.PAIR, pairing_id=pairing.id)
    post_, changed = set_reaction(pair_post.id, me, "sparkle", on=True)
    assert changed and post_.sparkle_count == 1
    with pytest.raises(LookupError):
        set_reaction(pair_post.id, make_user(), "sparkle", on=True)
    proposal = make_post(me, status=CelebrationStatus.PROPOSED, published_at=None)
    with pytest.raises(Conflict):
        set_reaction(proposal.id, me, "sparkle", on=True)


# --- editing, deleting, reporting, the director --------------------------------------------------------


def test_the_author_edits_and_deletes_and_nobody_else_can(client):
    author = make_user()
    shared = make_post(author, text="Before")
    other = make_user()
    login_as(client, other)
    assert post(client, f"/celebrations/{shared.id}/edit", {"text": "Hacked"}).status_code == 404
    assert post(client, f"/celebrations/{shared.id}/delete").status_code == 404
    assert reload(shared).text == "Before"
    login_as(client, author)
    response = post(client, f"/celebrations/{shared.id}/edit", {"text": ""})
    assert response.status_code == 422 and "Please write a few words." in response.get_data(as_text=True)
    assert post(client, f"/celebrations/{shared.id}/edit", {"text": "After <b>bold</b>"}).status_code == 303
    login_as(client, other)
    page = wall(client)
    assert "After &lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page
    login_as(client, author)
    assert post(client, f"/celebrations/{shared.id}/delete").status_code == 303
    login_as(client, other)
    assert "After" not in wall(client)
    assert client.get(f"/celebrations/{shared.id}").status_code == 404


def test_accepted_kudos_keep_the_words_their_subject_accepted(client):
    subject = make_user(email="s@example.com")
    giver = make_user()
    kudos = give_kudos(giver, to="s@example.com", skill_key="empathy_humour", text="Thank you")
    accept_kudos(kudos, subject, now=utcnow())
    db.session.commit()
    login_as(client, giver)
    response = post(client, f"/celebrations/{kudos.id}/edit", {"text": "Something else"})
    assert response.status_code == 409 and "can no longer be changed" in response.get_data(as_text=True)
    assert reload(kudos).text == "Thank you"
    # The subject may take kudos about them off the wall.
    login_as(client, subject)
    assert post(client, f"/celebrations/{kudos.id}/delete").status_code == 303
    assert reload(kudos).deleted_at is not None


def test_a_report_reaches_the_director_who_hides_and_restores_the_post(client):
    director = make_director()
    author = make_user(display_name="Tom Author")
    shared = make_post(author, text="Something unkind")
    reporter = make_user()
    login_as(client, reporter)
    assert (
        post(client, f"/celebrations/{shared.id}/report", {"reason": "It names a colleague unkindly"}).status_code
        == 303
    )
    assert notes_for(director) == [("A wall post was reported. Please have a look.", "/celebrations/reports")]
    assert client.get("/celebrations/reports").status_code == 403
    login_as(client, author)
    response = post(client, f"/celebrations/{shared.id}/report", {"reason": "mine"})
    assert response.status_code == 409
    login_as(client, director)
    page = client.get("/celebrations/reports").get_data(as_text=True)
    assert "It names a colleague unkindly" in page and "Something unkind" in page
    assert reporter.display_name not in page  # reports are read for their reason, not their reporter
    assert post(client, f"/celebrations/{shared.id}/hide").status_code == 303
    assert "No open reports" in client.get("/celebrations/reports").get_data(as_text=True)
    assert any("taken one of your wall posts off the wall" in message for message, _ in notes_for(author))
    login_as(client, reporter)
    assert "Something unkind" not in wall(client)
    assert client.get(f"/celebrations/{shared.id}").status_code == 404
    login_as(client, author)
    assert "taken this post off the wall" in client.get(f"/celebrations/{shared.id}").get_data(as_text=True)
    login_as(client, director)
    assert post(client, f"/celebrations/{shared.id}/restore").status_code == 303
    login_as(client, reporter)
    assert "Something unkind" in wall(client)


def test_the_director_cannot_hide_what_was_never_shared(client):
    proposal = make_post(make_user(), status=CelebrationStatus.PROPOSED, published_at=None)
    login_as(client, make_director())
    assert post(client, f"/celebrations/{proposal.id}/hide").status_code == 404
    assert reload(proposal).hidden_at is None


def test_an_overlong_report_is_refused_and_kept(client):
    shared = make_post(make_user())
    login_as(client, make_user())
    response = post(client, f"/celebrations/{shared.id}/report", {"reason": "r" * 501})
    assert response.status_code == 422 and "r" * 501 in response.get_data(as_text=True)


# --- who sees what: the access sweep ------------------------------------------------------------------------


def _states(author, subject, pairing):
    now = utcnow()
    kudos = dict(kind=CelebrationKind.KUDOS, author_id=author.id)
    return {
        "on the wall": make_post(subject, **kudos),
        "pair only": make_post(subject, audience=CelebrationAudience.PAIR, pairing_id=pairing.id),
        "proposal": make_post(subject, status=CelebrationStatus.PROPOSED, published_at=None),
        "pending kudos": make_post(subject, status=CelebrationStatus.PROPOSED, published_at=None, **kudos),
        "declined kudos": make_post(subject, status=CelebrationStatus.DISMISSED, published_at=None, **kudos),
        "hidden": make_post(subject, hidden_at=now, **kudos),
        "deleted": make_post(subject, deleted_at=now, **kudos),
    }


# Expected status of GET /celebrations/<id> for: author (kudos giver), subject, other employee, director.
SWEEP = {
    "on the wall": (200, 200, 200, 200),
    "pair only": (404, 200, 404, 404),  # the author here is no part of the pair; the subject's partner is below
    "proposal": (404, 200, 404, 404),
    "pending kudos": (200, 200, 404, 404),
    "declined kudos": (200, 200, 404, 404),
    "hidden": (200, 200, 404, 200),
    "deleted": (404, 404, 404, 404),
}


def test_access_sweep_for_every_state_and_person(client):
    author, subject, other, director = make_user(), make_user(), make_user(), make_director()
    partner = make_user(team="Design")
    pairing = make_pairing(mentor=partner, mentee=subject)
    posts = _states(author, subject, pairing)
    for state, expected in SWEEP.items():
        seen = []
        for person in (author, subject, other, director):
            login_as(client, person)
            seen.append(client.get(f"/celebrations/{posts[state].id}").status_code)
        assert tuple(seen) == expected, state
    login_as(client, partner)
    assert client.get(f"/celebrations/{posts['pair only'].id}").status_code == 200
    # Only the one post on the wall is on the wall, for everyone.
    for person in (author, subject, other, director, partner):
        login_as(client, person)
        page = wall(client)
        shown = set(re.findall(r'id="post-(\d+)"', page))
        assert shown == {str(posts["on the wall"].id)}, person
    client.post("/accounts/sign-out", data={})
    with client.session_transaction() as session:
        session.clear()
    for target in ("/celebrations/", f"/celebrations/{posts['on the wall'].id}", "/celebrations/mine"):
        response = client.get(target)
        assert response.status_code == 303 and "/accounts/sign-in" in response.headers["Location"]


def test_someone_not_enrolled_can_read_the_wall(client):
    make_cycle()
    make_post(make_user(display_name="Mei Tanaka"), text="Our first meeting was lovely")
    login_as(client, make_user())  # enrolled nowhere, never answered a question
    page = wall(client)
    assert "Our first meeting was lovely" in page and "Mei Tanaka" in page
    assert 'href="/celebrations/" aria-current="page">Wall' in page


# --- browsing -----------------------------------------------------------------------------------------------


def test_endless_scroll_loads_older_posts_with_htmx_and_links_them_without(client):
    subject = make_user()
    posts = [make_post(subject, text=f"Post {i:02d}", commit=False) for i in range(25)]
    db.session.commit()
    login_as(client, make_user())
    page = wall(client)
    assert page.count('class="wall-item"') == 20
    assert "Post 00" in page and "Post 20" not in page
    more = re.search(r'<a href="([^"]+)" hx-get="([^"]+)" hx-trigger="revealed, click" hx-target="closest li"', page)
    assert more and more.group(1) == more.group(2)
    older = more.group(1).replace("&amp;", "&")
    fragment = client.get(older, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment
    assert fragment.count('class="wall-item"') == 5 and "Post 24" in fragment and "Post 19" not in fragment
    assert "5 more posts loaded." in fragment and "That is every celebration" in fragment
    assert 'hx-trigger="revealed' not in fragment
    full = wall(client, older)
    assert "<html" in full and "Back to the newest posts" in full and full.count('class="wall-item"') == 5
    assert posts  # the list above is newest first: Post 00 was made a minute after now, Post 24 the oldest


def test_a_garbled_cursor_shows_the_newest_page():
    assert Cursor.parse("nonsense") is None and Cursor.parse("1-x") is None and Cursor.parse(None) is None
    stamp = utcnow()
    assert Cursor.parse(Cursor(stamp, 42).token()) == Cursor(stamp, 42)


def test_filters_by_skill_team_and_cycle(client):
    spring, autumn = make_cycle(name="Spring"), make_cycle(name="Autumn", current=False)
    data_person, design_person = make_user(team="Data"), make_user(team="Design")
    make_post(data_person, text="Negotiated in spring", skill_key="negotiation", cycle_id=spring.id)
    make_post(design_person, text="Delegated in autumn", skill_key="delegation", cycle_id=autumn.id)
    login_as(client, make_user())
    page = wall(client, "/celebrations/?skill=negotiation")
    assert "Negotiated in spring" in page and "Delegated in autumn" not in page
    page = wall(client, f"/celebrations/?team={design_person.team_id}")
    assert "Delegated in autumn" in page and "Negotiated in spring" not in page
    page = wall(client, f"/celebrations/?cycle={spring.id}")
    assert "Negotiated in spring" in page and "Delegated in autumn" not in page
    page = wall(client, "/celebrations/?skill=unknown&team=abc")
    assert "Negotiated in spring" in page and "Delegated in autumn" in page


def test_a_post_keeps_the_team_its_subject_had_when_it_was_shared(client):
    from portal.accounts.services import get_or_create_team

    person = make_user(team="Data")
    proposal = propose_celebration(person, kind="goal", text="Team history")
    db.session.commit()
    login_as(client, person)
    post(client, f"/celebrations/{proposal.id}/share", {"text": "Team history", "audience": "everyone"})
    person.team = get_or_create_team("Sales")
    db.session.commit()
    assert "Team history" in wall(client, f"/celebrations/?team={reload(proposal).team_id}")
    assert reload(proposal).team_id != person.team_id


def test_totals_are_program_wide_and_small_numbers_blur(client):
    people = [make_user() for _ in range(3)]
    now = utcnow()  # this month's posts: the factory's default goes back a minute per post made so far
    for person in people:
        make_post(person, kind=CelebrationKind.MILESTONE, published_at=now, commit=False)
    for index in range(6):
        author = people[(index + 1) % 3].id
        make_post(people[index % 3], kind=CelebrationKind.KUDOS, author_id=author, published_at=now, commit=False)
    make_post(people[0], status=CelebrationStatus.PROPOSED, published_at=None, commit=False)  # not counted
    make_post(people[0], published_at=utcnow() - timedelta(days=70), commit=False)  # another month
    db.session.commit()
    login_as(client, make_user())
    page = wall(client)
    totals = page.split('id="totals-title"')[1].split("</section>")[0]
    assert "a few milestones celebrated" in totals
    assert "6 kudos shared" in totals
    assert not any(person.display_name in totals for person in people)


def _wall_queries(client, url, headers=None) -> int:
    with count_queries() as counted:
        response = client.get(url, headers=headers or {})
    assert response.status_code == 200
    return counted[0]


def test_the_wall_takes_a_fixed_number_of_queries_whatever_its_size(client):
    viewer = make_user()
    login_as(client, viewer)

    def fill(count):
        people = [make_user(team=f"Team {n}") for n in range(3)]
        made = []
        for index in range(count):
            kudos = {"kind": CelebrationKind.KUDOS, "author_id": people[(index + 1) % 3].id} if index % 3 == 0 else {}
            made.append(make_post(people[index % 3], skill_key="focus", commit=False, **kudos))
        db.session.commit()
        for shown in made[::2]:
            db.session.add(CelebrationReaction(celebration_id=shown.id, user_id=viewer.id, kind="clap"))
        db.session.commit()

    fill(5)
    client.get("/celebrations/")  # the filter choices and month totals are read once a minute, not per page
    small_first = _wall_queries(client, "/celebrations/")
    small_filtered = _wall_queries(client, "/celebrations/?skill=focus")
    fill(55)
    big_first = _wall_queries(client, "/celebrations/")
    big_filtered = _wall_queries(client, "/celebrations/?skill=focus")
    assert small_first == big_first
    assert small_filtered == big_filtered
    page = client.get("/celebrations/").get_data(as_text=True)
    older = re.search(r'hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    next_page = _wall_queries(client, older, {"HX-Request": "true"})
    deeper = client.get(older, headers={"HX-Request": "true"}).get_data(as_text=True)
    deeper_url = re.search(r'hx-get="([^"]+)"', deeper).group(1).replace("&amp;", "&")
    assert next_page == _wall_queries(client, deeper_url, {"HX-Request": "true"})
    assert big_first <= 10 and next_page <= 5, (big_first, next_page)


def test_seed_demo_fills_the_wall_with_months_of_posts_and_consistent_counts(app, client):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--password", "demo password phrase"])
    assert result.exit_code == 0, result.output
    assert "Wall: 320 posts" in result.output
    published = db.session.scalars(select(Celebration).where(Celebration.status == CelebrationStatus.PUBLISHED)).all()
    assert len(published) >= 200
    assert len({(p.published_at.year, p.published_at.month) for p in published}) >= 6
    assert sum(p.kind == CelebrationKind.KUDOS for p in published) >= 30
    rows = db.session.scalar(select(func.count()).select_from(CelebrationReaction))
    assert rows > 300 and rows == sum(p.clap_count + p.heart_count + p.sparkle_count for p in published)
    first = db.session.scalars(select(User).where(User.role == "participant").order_by(User.id)).first()
    login_as(client, first)
    page = wall(client)
    assert "2 celebrations wait for your choice" in page
    assert page.count('class="wall-item"') == 20


def test_reaction_buttons_read_as_words_without_emoji_some_systems_cannot_draw(client):
    make_post(make_user(display_name="Asha Rao"))
    login_as(client, make_user())
    page = client.get("/celebrations/").get_data(as_text=True)
    buttons = re.findall(r'<button[^>]*class="reaction"[^>]*>(.*?)</button>', page, re.S)
    assert len(buttons) == 3
    for button, word in zip(buttons, ["Clap", "Heart", "Sparkle"], strict=True):
        assert button.startswith(word)
        assert not re.search(r"[\U0001F000-\U0001FFFF\u2600-\u27BF\ufe0f]", button), button
    assert "for the post about Asha Rao" in page


def test_the_kudos_people_picker_finds_colleagues_by_name_with_and_without_javascript(client):
    me = make_user(display_name="Sam Me")
    asha = make_user(display_name="Asha Rao", email="asha.rao@example.com")
    make_user(display_name="Ben Okafor")
    login_as(client, me)
    page = client.get("/celebrations/kudos/new?q=ash").get_data(as_text=True)
    assert "<html" in page and '<a href="/celebrations/kudos/new?to=asha.rao@example.com">Thank Asha Rao</a>' in page
    assert "Ben Okafor" not in page
    fragment = client.get("/celebrations/kudos/new?q=rao", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "Thank Asha Rao" in fragment
    assert "Thank Sam Me" not in client.get("/celebrations/kudos/new?q=sam").get_data(as_text=True)
    assert "at least two letters" in client.get("/celebrations/kudos/new?q=a").get_data(as_text=True)
    page = client.get("/celebrations/kudos/new?to=asha.rao%40example.com").get_data(as_text=True)
    assert 'value="asha.rao@example.com"' in page
    response = post(client, "/celebrations/kudos/new", {"to": asha.email, "skill": "negotiation", "text": "Thank you"})
    assert response.status_code == 303


def test_a_post_kept_rendered_on_the_wall_shows_a_new_reaction_and_an_edit_at_once(client):
    subject, first, second = make_user(), make_user(), make_user()
    shared = make_post(subject, text="Ran my first retrospective")
    login_as(client, first)
    assert f'id="react-{shared.id}-heart" class="reaction" aria-pressed="false"' in wall(client)
    post(client, f"/celebrations/{shared.id}/react", {"kind": "heart", "on": "1"})
    page = wall(client)
    assert f'id="react-{shared.id}-heart" class="reaction" aria-pressed="true"' in page
    assert '<span class="reaction-count">1</span>' in page
    login_as(client, second)  # someone else sees the count, not the first person's choice
    page = wall(client)
    assert f'id="react-{shared.id}-heart" class="reaction" aria-pressed="false"' in page
    assert '<span class="reaction-count">1</span>' in page
    shared.text = "Ran my first retrospective, calmly"
    db.session.commit()
    assert "Ran my first retrospective, calmly" in wall(client)


def test_the_kept_wall_shows_each_viewer_their_own_reactions_and_every_change_at_once(client):
    # The whole list is kept as one fragment: its key must name the viewer and every post's counts.
    shared = make_post(make_user(display_name="Asha Rao"))
    asha_fan, ben_fan = make_user(), make_user()

    def wall_as(person) -> str:
        login_as(client, person)
        return client.get("/celebrations/").get_data(as_text=True)

    heart = rf'id="react-{shared.id}-heart"[^>]*aria-pressed="(true|false)"[^>]*>Heart'
    heart += r'( <span class="reaction-count">(\d+))?'
    assert re.search(heart, wall_as(asha_fan)).group(1, 3) == ("false", None)
    login_as(client, asha_fan)
    post(client, f"/celebrations/{shared.id}/react", {"kind": "heart", "on": "1"})
    assert re.search(heart, wall_as(asha_fan)).group(1, 3) == ("true", "1")
    assert re.search(heart, wall_as(ben_fan)).group(1, 3) == ("false", "1")
    post(client, f"/celebrations/{shared.id}/react", {"kind": "heart", "on": "1"})  # signed in as ben_fan now
    assert re.search(heart, wall_as(ben_fan)).group(1, 3) == ("true", "2")
    assert re.search(heart, wall_as(asha_fan)).group(1, 3) == ("true", "2")
