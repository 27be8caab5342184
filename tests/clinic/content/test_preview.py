"""`make preview`: the page is opened in headless Chromium and its content checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from clinic.content import readability
from clinic.content.article import normalise_space
from clinic.content.preview import write_preview
from clinic.content.project import Project
from clinic.content.quotes import sentences
from clinic.content.topics import read_topic
from clinic.devtools.editing import add_example
from tests.clinic.content.helpers import run_module

pytestmark = pytest.mark.slow  # a browser


def open_page(browser: Browser, path: Path):
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.resolve().as_uri())
    return page, requests


# Per paragraph of the highlighted article: [[text, "topic ids quoting it"], ...]
SEGMENTS_JS = """() => [...document.querySelectorAll('#article p')].map(p =>
  [...p.childNodes].map(n => [n.textContent, n.nodeName === 'MARK' ? n.dataset.topics : '']))"""


def test_preview_of_the_repository_content(browser: Browser, tmp_path: Path) -> None:
    project = Project.at()
    out = write_preview(project, tmp_path / "index.html")
    page, requests = open_page(browser, out)
    docs = [read_topic(p) for p in project.topic_files()]

    assert requests == [out.resolve().as_uri()]  # self-contained: nothing else is fetched
    assert page.locator("section.topic").count() == len(docs)
    for doc in docs:
        card = page.locator(f"#topic-{doc.id}")
        assert card.locator("h2").inner_text() == doc.title
        assert card.locator(".bubble").inner_text() == doc.answer
        assert card.locator(".source summary").inner_text() == "Source"
        assert card.locator(".source blockquote").all_inner_texts() == [f"“{q}”" for q in doc.sources]
        assert card.locator(".examples li").all_inner_texts() == doc.examples
        badge = card.locator("[data-grade]")
        assert badge.inner_text() == f"{readability.grade(doc.answer):.1f}"
        assert "error" not in card.locator(".meta").inner_text()  # "check passed" or warnings only

    # Every source passage is highlighted, as a whole, in the article, marked with its topic.
    paragraphs = page.evaluate(SEGMENTS_JS)
    marked_by: dict[str, str] = {}
    for segments in paragraphs:
        text = "".join(t for t, _ in segments)
        owners = [o for t, o in segments for _ in t]
        for doc in docs:
            for quote in doc.sources:
                start = text.find(normalise_space(quote))
                if start >= 0:
                    span = owners[start : start + len(normalise_space(quote))]
                    assert all(doc.id in o.split() for o in span), (doc.id, quote)
                    marked_by[quote] = doc.id
    assert set(marked_by) == {q for d in docs for q in d.sources}
    article = " ".join("".join(t for t, _ in segments) for segments in paragraphs)
    assert article == normalise_space(project.article.read_text(encoding="utf-8"))

    # Unused sentences: exactly the article's sentences that no quote touches.
    quotes = [normalise_space(q) for d in docs for q in d.sources]
    expected = [
        s for s in sentences(project.article) if not any(q in s or s in q or _overlap(s, q) for q in quotes)
    ]
    listed = page.locator("#unused li").all_inner_texts()
    assert listed == expected
    page.close()


def _overlap(sentence: str, quote: str) -> bool:
    """A quote that covers part of the sentence (a quote may span several sentences)."""
    return any(part and part in sentence for part in re.split(r"(?<=[.!?])\s+", quote))


def test_preview_escapes_everything_and_survives_broken_files(browser: Browser, work_copy: Project) -> None:
    topic = work_copy.topics_dir / "routes.yml"
    text = topic.read_text()
    topic.write_text(
        text.replace(
            "title: How the treatment is given", 'title: "<script>window.HACKED = 1</script> & <b>bold</b>"'
        )
    )
    add_example(topic, '<img src=x onerror="window.HACKED = 2">')
    broken = work_copy.topics_dir / "zz_broken.yml"
    broken.write_text("title: Broken\nexamples:\n  - a\n   b: c\n")

    result = run_module("clinic.content.preview", "--root", str(work_copy.root))
    assert result.returncode == 0, result.stderr
    out = work_copy.preview_dir / "index.html"
    assert f"Preview written to {out}" in result.stdout
    page, requests = open_page(browser, out)
    assert page.evaluate("() => window.HACKED") is None
    assert requests == [out.resolve().as_uri()]
    assert page.locator("#topic-routes h2").inner_text() == "<script>window.HACKED = 1</script> & <b>bold</b>"
    assert (
        page.locator("#topic-routes .examples li").last.inner_text()
        == '<img src=x onerror="window.HACKED = 2">'
    )
    assert page.locator("script, img").count() == 0
    card = page.locator("#topic-zz_broken")
    assert "cannot be read" in card.inner_text()
    assert "line 4: ERROR: YAML syntax error" in card.locator(".problems").inner_text()
    page.close()
