from tests.conftest import login_as
from tests.factories import make_user


def test_home_page_welcomes_a_visitor(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Grow with a colleague who fits" in response.get_data(as_text=True)


def test_home_page_shows_a_signed_in_person_their_next_step(client):
    user = make_user(display_name="Asha Rao")
    login_as(client, user)
    page = client.get("/").get_data(as_text=True)
    assert "Hello, Asha Rao" in page
    assert "Start the questionnaire" in page
