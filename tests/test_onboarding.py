"""The gentle questionnaire: one step at a time, skippable, resumable, with drafts and honest errors."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.extensions import db
from portal.models import ProfileAnswer, ProfileStep
from portal.onboarding.questions import QUESTION_BY_KEY, QUESTIONS
from portal.onboarding.services import (
    get_draft,
    load_state,
    progress_for,
    save_answer,
    skip_question,
)
from tests.conftest import count_queries, login_as, post
from tests.factories import make_user


def signed_in(client, **overrides):
    user = make_user(**overrides)
    login_as(client, user)
    return user


def answer(client, key, values=(), *, text=None, action="next", htmx=False, **extra):
    data = {"choice": list(values), "action": action, **extra}
    if text is not None:
        data["text"] = text
    return post(client, f"/onboarding/step/{key}", data, htmx=htmx)


def test_start_goes_to_the_first_step(client):
    signed_in(client)
    response = client.get("/onboarding/")
    assert response.headers["Location"].endswith("/onboarding/step/participation")
    page = client.get("/onboarding/step/participation").get_data(as_text=True)
    assert f"Step 1 of {len(QUESTIONS)}" in page
    assert "How would you like to take part?" in page
    for label in ["Be mentored", "Mentor someone", "Both", "Not sure yet"]:
        assert label in page
    for button in ["Continue", "Skip for now", "Save and finish later"]:
        assert button in page


def test_answering_without_javascript_saves_and_redirects_to_the_next_step(client):
    user = signed_in(client)
    response = answer(client, "participation", ["mentee"])
    assert response.status_code == 303
    assert response.headers["Location"] == "/onboarding/step/skills_grow"
    assert load_state(user)["participation"].keys == {"mentee"}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your answer is saved. Step 2 of 11." in page
    assert 'href="/onboarding/step/participation"' in page  # Back


def test_answering_with_htmx_swaps_in_the_next_step_and_announces_it(client):
    user = signed_in(client)
    response = answer(client, "participation", ["both"], htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == "/onboarding/step/skills_grow"
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment
    assert '<section id="step"' in fragment
    assert "Which soft skills would you like to grow?" in fragment
    assert 'id="step-title" tabindex="-1"  data-focus' in fragment or "data-focus" in fragment
    assert 'hx-swap-oob="innerHTML:#status"' in fragment
    assert "Step 2 of 11" in fragment
    assert load_state(user)["participation"].keys == {"both"}


def test_a_step_as_htmx_fragment_and_as_full_page(client):
    signed_in(client)
    fragment = client.get("/onboarding/step/values", headers={"HX-Request": "true"}).get_data(as_text=True)
    full = client.get("/onboarding/step/values").get_data(as_text=True)
    assert "<html" not in fragment and "<html" in full
    boosted = client.get("/onboarding/step/values", headers={"HX-Request": "true", "HX-Boosted": "true"}).get_data(
        as_text=True
    )
    assert "<html" in boosted


def test_skipping_moves_on_and_remembers_the_skip(client):
    user = signed_in(client)
    response = answer(client, "skills_grow", action="skip")
    assert response.headers["Location"] == "/onboarding/step/skills_offer"
    state = load_state(user)["skills_grow"]
    assert state.status == "skipped" and state.keys == set()


def test_skipping_an_answered_question_keeps_the_answer(client):
    user = signed_in(client)
    answer(client, "values", ["kindness"])
    answer(client, "values", action="skip")
    assert load_state(user)["values"].keys == {"kindness"}


def test_save_and_finish_later_goes_home_and_keeps_the_answer(client):
    user = signed_in(client)
    response = answer(client, "values", ["curiosity", "courage"], action="later")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert load_state(user)["values"].keys == {"curiosity", "courage"}
    assert "pick up where you left off" in client.get("/").get_data(as_text=True)


def test_save_and_finish_later_with_htmx_leaves_the_page(client):
    signed_in(client)
    response = answer(client, "values", action="later", htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/"


def test_resuming_starts_at_the_first_step_never_reached(client):
    user = signed_in(client)
    answer(client, "participation", ["mentor"])
    answer(client, "skills_grow", action="skip")
    answer(client, "skills_offer", ["negotiation"])
    assert progress_for(user).next_question.key == "interests"
    assert client.get("/onboarding/").headers["Location"].endswith("/onboarding/step/interests")
    assert "answered 2 of 11" in client.get("/").get_data(as_text=True)


def test_a_choice_not_in_the_list_is_refused_and_nothing_is_saved(client):
    user = signed_in(client)
    response = answer(client, "values", ["curiosity", "world-domination"])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please pick from the list shown." in page
    assert 'id="values-error"' in page
    assert 'aria-describedby="values-help values-error"' in page
    assert re.search(r'value="curiosity"\s+checked', page)  # what was ticked stays ticked
    assert db.session.scalars(select(ProfileAnswer).where(ProfileAnswer.user_id == user.id)).all() == []


def test_too_many_values_are_refused_with_the_ticks_kept(client):
    signed_in(client)
    response = answer(client, "values", ["curiosity", "kindness", "courage", "growth"], htmx=True)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please pick up to 3; you picked 4." in page
    assert len(re.findall(r"\bchecked\b", page)) == 4
    assert "error-summary" in page and "data-focus" in page


def test_two_answers_to_a_single_choice_question_are_refused(client):
    signed_in(client)
    response = answer(client, "participation", ["mentee", "mentor"])
    assert response.status_code == 422
    assert "Please pick just one." in response.get_data(as_text=True)


def test_continuing_without_a_choice_suggests_skipping(client):
    signed_in(client)
    response = answer(client, "perspective")
    assert response.status_code == 422
    assert "or choose \u201cSkip for now\u201d" in response.get_data(as_text=True)


def test_over_long_text_is_refused_and_the_text_is_kept(client):
    user = signed_in(client)
    long_text = "I would like to talk about many things. " * 40
    response = answer(client, "anything_else", text=long_text)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please keep this to 1000 characters" in page
    assert long_text.strip()[:200] in page
    assert load_state(user)["anything_else"].status is None


def test_unknown_step_is_404(client):
    signed_in(client)
    assert client.get("/onboarding/step/favourite-colour").status_code == 404
    assert answer(client, "favourite-colour", ["x"]).status_code == 404


def test_the_free_text_draft_autosaves_and_survives_leaving(client):
    user = signed_in(client)
    response = post(client, "/onboarding/draft/anything_else", {"text": "Mornings suit me"}, htmx=True)
    assert response.status_code == 200
    assert "Draft saved." in response.get_data(as_text=True)
    assert get_draft(user, QUESTION_BY_KEY["anything_else"]).text == "Mornings suit me"
    page = client.get("/onboarding/step/anything_else").get_data(as_text=True)
    assert "Mornings suit me" in page
    assert "draft from last time" in page
    answer(client, "anything_else", text="Mornings suit me best")
    assert get_draft(user, QUESTION_BY_KEY["anything_else"]) is None
    assert load_state(user)["anything_else"].text == "Mornings suit me best"


def test_a_draft_over_the_limit_is_refused(client):
    signed_in(client)
    response = post(client, "/onboarding/draft/anything_else", {"text": "x" * 1001}, htmx=True)
    assert response.status_code == 422
    assert "1000 characters" in response.get_data(as_text=True)


def test_a_draft_for_a_choice_question_is_refused(client):
    signed_in(client)
    response = post(client, "/onboarding/draft/values", {"text": "hello"}, htmx=True)
    assert response.status_code == 422


def test_review_lists_every_answer_with_an_edit_link(client):
    user = signed_in(client)
    save_answer(user, QUESTION_BY_KEY["values"], values=["kindness", "craft"])
    skip_question(user, QUESTION_BY_KEY["time"])
    page = client.get("/onboarding/review").get_data(as_text=True)
    assert "Kindness" in page and "Craft and quality" in page
    assert "Skipped for now" in page and "Not answered yet" in page
    assert "/onboarding/step/values?return=review" in page


def test_editing_from_the_review_returns_to_it(client):
    user = signed_in(client)
    response = answer(client, "values", ["fairness"], **{"return": "review"})
    assert response.headers["Location"] == "/onboarding/review"
    assert load_state(user)["values"].keys == {"fairness"}


def test_finishing_marks_the_questionnaire_done_and_shows_the_profile(client):
    user = signed_in(client)
    save_answer(user, QUESTION_BY_KEY["interests"], values=["data", "arts"])
    response = post(client, "/onboarding/finish")
    assert response.headers["Location"] == "/profiles/me"
    assert user.onboarded_at is not None
    page = client.get("/profiles/me").get_data(as_text=True)
    assert "Data and analytics" in page and "Arts and music" in page
    assert "Your questionnaire is complete" in client.get("/").get_data(as_text=True)


def test_after_confirming_the_answers_the_way_on_is_to_take_part_in_the_open_cycle(client):
    from tests.factories import enrol, make_cycle

    cycle = make_cycle(name="Autumn")
    user = signed_in(client)
    save_answer(user, QUESTION_BY_KEY["interests"], values=["data"])
    response = post(client, "/onboarding/finish")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'<a class="button" href="/programs/{cycle.id}/enrol">Take part in Autumn</a>' in page
    enrol(user, cycle, "mentee")
    page = client.get("/profiles/me").get_data(as_text=True)
    assert "Take part in Autumn" not in page and "You take part in Autumn" in page


def test_someone_elses_profile_does_not_exist_for_you(client):
    me = signed_in(client)
    other = make_user()
    save_answer(other, QUESTION_BY_KEY["values"], values=["integrity"])
    assert client.get(f"/profiles/{other.id}").status_code == 404
    assert client.get(f"/profiles/{me.id}").status_code == 200
    assert "Integrity" not in client.get(f"/profiles/{me.id}").get_data(as_text=True)


def test_answers_are_kept_per_person(client):
    me = signed_in(client)
    other = make_user()
    answer(client, "values", ["kindness"])
    assert load_state(other)["values"].keys == set()
    assert db.session.scalar(select(ProfileStep).where(ProfileStep.user_id == me.id)) is not None


def test_review_and_profile_take_a_fixed_number_of_queries(client):
    user = signed_in(client)
    client.get("/onboarding/review")
    with count_queries() as few:
        client.get("/onboarding/review")
    with count_queries() as profile_few:
        client.get("/profiles/me")
    for question in QUESTIONS:
        if question.kind == "text":
            save_answer(user, question, values=[], text="something")
        else:
            from portal.onboarding.services import choices_for

            keys = [c.key for c in choices_for(question.list_name)]
            save_answer(user, question, values=keys[: 1 if question.kind == "single" else 3])
    db.session.commit()
    with count_queries() as many:
        client.get("/onboarding/review")
    assert many[0] == few[0]
    with count_queries() as profile:
        client.get("/profiles/me")
    assert profile[0] == profile_few[0]
