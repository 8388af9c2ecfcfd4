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


def test_the_served_application_sets_its_start_up_heap_aside_from_the_garbage_collector(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env["PORTAL_INSTANCE_PATH"] = str(tmp_path)
    code = "import gc, wsgi; print(gc.get_freeze_count())"
    frozen = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)  # noqa: S603
    assert int(frozen.stdout.split()[-1]) > 10_000
