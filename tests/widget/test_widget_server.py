"""widget/serve.py: the demo site (the article, the widget tag, the Rasa URL, safe paths)."""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.request

import pytest

from clinic.stack.local import ROOT, RasaStack

pytestmark = pytest.mark.slow  # a Rasa server and the demo server


def fetch(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8", "replace")


def test_demo_page_is_the_article_with_the_widget(stack: RasaStack) -> None:
    status, headers, page = fetch(stack.page())
    assert status == 200
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", page)))
    article = (ROOT / "content" / "article.txt").read_text(encoding="utf-8")
    for paragraph in (p.strip() for p in article.split("\n\n") if p.strip()):
        assert re.sub(r"\s+", " ", paragraph) in text, paragraph[:60]
    tag = f'<script src="/widget/widget.js" data-server="{stack.rasa_url}"'
    assert tag in page  # the Rasa URL is substituted for http://localhost:5005
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert stack.rasa_url in headers["Content-Security-Policy"]


def test_pages_and_widget_are_served(stack: RasaStack) -> None:
    for path, kind in (
        ("about.html", "text/html"),
        ("privacy", "text/html"),
        ("widget/widget.js", "text/javascript"),
    ):
        status, headers, _ = fetch(stack.page(path))
        assert status == 200, path
        assert headers["Content-Type"].startswith(kind), path
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_nothing_outside_the_two_folders(stack: RasaStack) -> None:
    for path in (
        "../serve.py",
        "%2e%2e/serve.py",
        "widget/../serve.py",
        "widget/%2e%2e/src/widget.js",
        "widget/..%2fserve.py",
        "..%2f..%2fcredentials.yml",
        "nope.html",
    ):
        status, _, _ = fetch(stack.page(path))
        assert status == 404, path
