"""Assets travel once: pages and assets compressed, assets under content-hashed names cached for a year."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli

from portal.assets import build_manifest
from tests.conftest import login_as
from tests.factories import make_post, make_user

BROWSER = "gzip, deflate, br, zstd"


def asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_pages_link_to_assets_by_content_hashed_names(client):
    urls = asset_urls(client.get("/accounts/sign-in").get_data(as_text=True))
    assert len(urls) == 3
    assert all(re.search(r"\.[0-9a-f]{12}\.(css|js)$", url) for url in urls)


def test_a_hashed_asset_is_kept_for_a_year_and_sent_as_brotli_or_gzip(app, client):
    url = next(u for u in asset_urls(client.get("/accounts/sign-in").get_data(as_text=True)) if "htmx" in u)
    original = (Path(app.static_folder) / "vendor/htmx-2.0.11.min.js").read_bytes()

    as_brotli = client.get(url, headers={"Accept-Encoding": BROWSER})
    assert as_brotli.status_code == 200
    assert as_brotli.headers["Content-Encoding"] == "br"
    assert "immutable" in as_brotli.headers["Cache-Control"]
    assert "max-age=31536000" in as_brotli.headers["Cache-Control"]
    assert "Accept-Encoding" in as_brotli.headers["Vary"]
    assert brotli.decompress(as_brotli.data) == original
    assert len(as_brotli.data) < len(original) / 3

    as_gzip = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert as_gzip.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(as_gzip.data) == original

    plain = client.get(url, headers={"Accept-Encoding": ""})
    assert "Content-Encoding" not in plain.headers
    assert plain.data == original


def test_a_plain_asset_name_still_works_but_is_revalidated(client):
    response = client.get("/static/css/portal.css")
    assert response.status_code == 200
    assert "immutable" not in response.headers.get("Cache-Control", "")


def test_a_changed_file_gets_a_new_name(tmp_path):
    (tmp_path / "css").mkdir()
    sheet = tmp_path / "css" / "site.css"
    sheet.write_text("body { color: black }")
    before = build_manifest(str(tmp_path))["css/site.css"]
    sheet.write_text("body { color: navy }")
    after = build_manifest(str(tmp_path))["css/site.css"]
    assert before != after
    assert before.startswith("css/site.") and before.endswith(".css")


def test_pages_are_compressed_as_the_browser_asks(client):
    user = make_user()
    login_as(client, user)
    as_brotli = client.get("/", headers={"Accept-Encoding": BROWSER})
    assert as_brotli.headers["Content-Encoding"] == "br"
    assert b"Mentorship program" in brotli.decompress(as_brotli.data)
    as_gzip = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert as_gzip.headers["Content-Encoding"] == "gzip"
    assert b"Mentorship program" in gzip.decompress(as_gzip.data)
    assert "Content-Encoding" not in client.get("/", headers={"Accept-Encoding": "identity"}).headers


def test_the_first_visit_to_a_full_wall_transfers_at_most_30_kb(client):
    viewer = make_user()
    for n in range(30):
        make_post(make_user(), text=f"Led a calm planning session number {n}, see https://example.com/notes/{n}")
    login_as(client, viewer)
    page = client.get("/celebrations/", headers={"Accept-Encoding": BROWSER})
    assert page.headers["Content-Encoding"] == "br"
    assert len(brotli.decompress(page.data)) > 20_000  # a full page of posts
    responses = [page] + [client.get(url, headers={"Accept-Encoding": BROWSER}) for url in asset_urls(
        brotli.decompress(page.data).decode())]  # fmt: skip
    transferred = sum(len(r.data) + sum(len(k) + len(v) + 4 for k, v in r.headers.items()) for r in responses)
    assert transferred <= 30_000


def test_each_person_is_sent_the_compressed_copy_of_their_own_page(client):
    # Compressed pages are kept by a digest of the exact body, never by the address: the same URL read by two
    # people is two different bodies and two different compressed copies.
    asha, ben = make_user(display_name="Asha Rao"), make_user(display_name="Ben Okafor")
    seen = {}
    for person in (asha, ben, asha, ben):
        login_as(client, person)
        page = brotli.decompress(client.get("/", headers={"Accept-Encoding": BROWSER}).data).decode()
        seen.setdefault(person.display_name, []).append(page)
    assert all("Hello, Asha Rao" in page and "Ben Okafor" not in page for page in seen["Asha Rao"])
    assert all("Hello, Ben Okafor" in page and "Asha Rao" not in page for page in seen["Ben Okafor"])
