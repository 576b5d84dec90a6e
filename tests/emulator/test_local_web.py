"""The local web: served by Host or /web/ path, seeded, with its ground truth as data."""

from __future__ import annotations

import csv
import io

import pytest
from starlette.testclient import TestClient

from bbnb.emulator import Emulator
from bbnb.emulator.web import ground_truth


@pytest.fixture
def web(emulator: Emulator) -> TestClient:
    """A client on the emulator app that does not follow redirects."""
    return TestClient(emulator.app, follow_redirects=False)


def test_host_and_path_show_the_same_page(web: TestClient) -> None:
    """shop.bbnb.test/prices and /web/shop/prices hold the same table; links keep their form."""
    by_host = web.get("/prices", headers={"host": "shop.bbnb.test"})
    by_path = web.get("/web/shop/prices")
    assert by_host.status_code == by_path.status_code == 200
    assert by_host.text.replace('href="/', 'href="/web/shop/') == by_path.text


def test_category_pages_list_every_product_once(web: TestClient, emulator: Emulator) -> None:
    """Following rel=next through a category shows exactly its products from the truth."""
    truth = ground_truth(emulator.config.seed)
    category = truth.categories[0]
    seen = []
    for number in range(1, category["pages"] + 1):
        page = web.get(f"/web/shop/category/{category['slug']}", params={"page": number}).text
        seen += [p["name"] for p in truth.products if f">{p['name']}</a>" in page]
        assert ('rel="next"' in page) is (number < category["pages"])
    expected = [p["name"] for p in truth.products if p["category"] == category["name"]]
    assert sorted(seen) == sorted(expected) and len(seen) == category["product_count"]


def test_ground_truth_depends_on_the_seed() -> None:
    """The same seed gives the same web; another seed another one."""
    assert ground_truth(3).as_dict() == ground_truth(3).as_dict()
    assert ground_truth(3).products != ground_truth(4).products


def test_login_sets_a_cookie_that_opens_the_account(web: TestClient, emulator: Emulator) -> None:
    """/account redirects to /login; the right password gives a cookie that shows the profile."""
    host = {"host": "account.bbnb.test"}
    assert web.get("/account", headers=host).headers["location"].startswith("/login")
    account = ground_truth(emulator.config.seed).account
    bad = web.post("/login", headers=host, data={"username": "demo", "password": "nope"})
    assert bad.status_code == 401 and "set-cookie" not in bad.headers
    good = web.post(
        "/login", headers=host, data={"username": "demo", "password": account["password"]}
    )
    assert good.status_code == 303
    page = web.get("/account", headers={**host, "cookie": good.headers["set-cookie"].split(";")[0]})
    assert page.status_code == 200 and account["profile"]["email"] in page.text


def test_csv_download_matches_the_truth(web: TestClient, emulator: Emulator) -> None:
    """The inventory CSV is an attachment whose rows are the ground truth's."""
    response = web.get("/reports/inventory.csv", headers={"host": "shop.bbnb.test"})
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    truth = ground_truth(emulator.config.seed).report_csv["rows"]
    assert [r["sku"] for r in rows] == [r["sku"] for r in truth]
    assert float(rows[0]["price"]) == truth[0]["price"]


@pytest.mark.parametrize(
    ("host", "path", "status"),
    [
        ("shop.bbnb.test", "/product/no-such-thing", 404),
        ("shop.bbnb.test", "/category/kitchen?page=99", 404),
        ("nowhere.bbnb.test", "/", 404),
        ("news.bbnb.test", "/?page=x", 404),
        ("slow.bbnb.test", "/?seconds=0", 200),
    ],
    ids=["product", "page", "site", "news-page", "slow-zero"],
)
def test_unknown_pages(web: TestClient, host: str, path: str, status: int) -> None:
    """Unknown pages and sites answer an HTML 404 page, not an API error."""
    response = web.get(path, headers={"host": host})
    assert response.status_code == status and response.headers["content-type"].startswith(
        "text/html"
    )


def test_api_routes_are_untouched(web: TestClient) -> None:
    """Requests without a local-web host or path still reach the API (and its key check)."""
    assert web.get("/v1/agents/runs").status_code == 401
    assert web.get("/").json()["emulator"] is True
