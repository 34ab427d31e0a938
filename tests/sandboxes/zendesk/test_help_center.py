"""Zendesk Guide's article search and article creation, as the unmodified zenpy calls them and as
the public reference shapes them (results with result_type and snippet, offset pages, a locale
from the path or the parameter, 400 without a query)."""

from __future__ import annotations

import pytest
import requests
from zenpy.lib.api_objects.help_centre_objects import Article

pytestmark = pytest.mark.unit
SECTION = 1022  # the seeded "IT help" section


def write(zen, title: str, body: str, **fields):
    return zen.help_center.articles.create(section=SECTION, article=Article(title=title, body=body, **fields))


def test_articles_created_through_zenpy_are_found_by_words_best_first(zendesk, zen):
    vpn = write(zen, "Connecting to the VPN", "<p>Install the <b>VPN</b> client, then sign in with SSO.</p>")
    remote = write(zen, "Working from home", "<p>Use the VPN for internal sites &amp; tools.</p>")
    write(zen, "Resetting your password", "<p>Open the password page and follow the steps.</p>")
    assert vpn.id and vpn.section_id == SECTION and vpn.locale == "en-us"
    assert vpn.html_url.startswith(zendesk.base_url) and f"/hc/en-us/articles/{vpn.id}-" in vpn.html_url

    found = list(zen.help_center.articles.search(query="VPN access from home"))
    # Both mention the VPN; one has it in its title, the other has "home" in its title.
    assert [a.id for a in found] == [remote.id, vpn.id] or [a.id for a in found] == [vpn.id, remote.id]
    best = next(a for a in found if a.id == vpn.id)
    assert "<em>VPN</em>" in best.snippet and best.title == "Connecting to the VPN" and best.body.startswith("<p>")
    assert [a.title for a in zen.help_center.articles.search(query="password")] == ["Resetting your password"]
    assert list(zen.help_center.articles.search(query="printer toner")) == []


def test_the_locale_comes_from_the_path_or_the_parameter_and_drafts_are_not_found(zendesk, zen, auth):
    write(zen, "VPN en français", "<p>Le VPN.</p>", locale="fr")
    write(zen, "VPN in English", "<p>The VPN.</p>")
    write(zen, "VPN draft", "<p>Not yet.</p>", draft=True)
    assert [a.title for a in zen.help_center.articles.search(query="vpn")] == ["VPN in English"]  # the default
    assert [a.title for a in zen.help_center.articles.search(query="vpn", locale="fr")] == ["VPN en français"]
    assert len(list(zen.help_center.articles.search(query="vpn", locale="*"))) == 2
    url = f"{zendesk.base_url}/api/v2/help_center/fr/articles/search.json"
    page = requests.get(url, params={"query": "vpn"}, auth=auth, timeout=5).json()
    assert [r["locale"] for r in page["results"]] == ["fr"]


def test_pages_of_results_as_the_reference_shapes_them(zendesk, zen, auth):
    ids = [write(zen, f"VPN guide {n}", f"<p>VPN step {n}</p>").id for n in range(3)]
    url = f"{zendesk.base_url}/api/v2/help_center/articles/search.json"
    first = requests.get(url, params={"query": "vpn", "per_page": 2}, auth=auth, timeout=5).json()
    assert {"results", "count", "next_page", "previous_page", "page", "per_page", "page_count"} <= set(first)
    assert (first["count"], first["page"], first["per_page"], first["page_count"]) == (3, 1, 2, 2)
    result = first["results"][0]
    for key in ("id", "url", "html_url", "title", "body", "snippet", "locale", "section_id", "result_type"):
        assert key in result, key
    assert result["result_type"] == "article"
    second = requests.get(first["next_page"], auth=auth, timeout=5).json()
    assert second["page"] == 2 and second["next_page"] is None and second["previous_page"]
    assert sorted(r["id"] for r in first["results"] + second["results"]) == sorted(ids)
    # zenpy follows next_page by itself.
    assert sorted(a.id for a in zen.help_center.articles.search(query="vpn", per_page=1)) == sorted(ids)


def test_refusals_say_why(zendesk, zen, auth):
    url = f"{zendesk.base_url}/api/v2/help_center/articles/search.json"
    missing = requests.get(url, auth=auth, timeout=5)
    assert missing.status_code == 400 and "query" in missing.json()["description"]
    assert requests.get(url, params={"query": "vpn", "per_page": 101}, auth=auth, timeout=5).status_code == 400
    assert requests.get(url, params={"query": "vpn", "page": 0}, auth=auth, timeout=5).status_code == 400
    assert requests.get(url, params={"query": "vpn"}, timeout=5).status_code == 401
    create = f"{zendesk.base_url}/api/v2/help_center/sections/{SECTION}/articles.json"
    untitled = requests.post(create, json={"article": {"body": "x"}}, auth=auth, timeout=5)
    assert untitled.status_code == 422 and untitled.json()["error"] == "RecordInvalid"
    nowhere = f"{zendesk.base_url}/api/v2/help_center/sections/999/articles.json"
    assert requests.post(nowhere, json={"article": {"title": "x"}}, auth=auth, timeout=5).status_code == 404


def test_sections_and_categories_are_listed_and_an_article_page_opens(zendesk, zen):
    assert [s.id for s in zen.help_center.sections()] == [SECTION]
    assert [c.name for c in zen.help_center.categories()] == ["General"]
    article = write(zen, "Connecting to the VPN", "<p>Install the client.</p>")
    page = requests.get(article.html_url, timeout=5)
    assert page.status_code == 200 and "Connecting to the VPN" in page.text and "Install the client." in page.text
    assert zen.help_center.articles(id=article.id).title == "Connecting to the VPN"
