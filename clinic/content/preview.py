"""See every answer the way visitors will, before publishing: `make preview`.

Writes build/preview/index.html, one self-contained page (no scripts, fonts or images from
elsewhere): each topic with its example questions, its answer as the chat widget shows it (text
and the "Source" quote), its reading grade and any problems `make check-content` finds; then the
whole article with the quoted passages highlighted, and the sentences no answer uses yet.

Usage: python -m clinic.content.preview [--root DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from html import escape
from pathlib import Path

from clinic import faq
from clinic.content import readability
from clinic.content.article_coverage import Coverage, anchor_id, coverage
from clinic.content.check import run_checks
from clinic.content.check.report import Problem
from clinic.content.project import Project
from clinic.content.topics import TopicDoc, read_topic

STYLE = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2a30;
       margin: 0 auto; max-width: 980px; padding: 24px; background: #f7f9fa; }
h1 { margin-bottom: 4px; } .lead { color: #52616a; margin-top: 0; }
nav ul { columns: 2; padding-left: 18px; }
.topic { background: #fff; border: 1px solid #d8e0e4; border-radius: 10px; padding: 16px 20px; margin: 20px 0; }
.topic h2 { margin: 0 0 4px; font-size: 20px; }
.meta { color: #52616a; font-size: 14px; margin: 0 0 12px; }
.badge { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 13px; font-weight: 600; }
.badge.ok { background: #e3f4e8; color: #1f6b35; } .badge.bad { background: #fde8e8; color: #9b1c1c; }
.badge.warn { background: #fff4d6; color: #7a5200; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 20px; }
@media (max-width: 760px) { .columns { grid-template-columns: 1fr; } }
.widget { background: #fbfcfc; border: 1px solid #e3e9ec; border-radius: 12px; padding: 12px; max-width: 380px; font-size: 15px; }
.bubble { background: #eef3f5; border: 1px solid #e0e8eb; border-radius: 16px 16px 16px 4px; padding: 10px 14px; }
.source { margin-top: 6px; font-size: 14px; }
.source summary { color: #0b6e78; font-weight: 600; cursor: pointer; }
.source-intro { margin: 4px 0; color: #52616a; font-size: 13px; }
.source blockquote { margin: 4px 0 8px; padding-left: 10px; border-left: 3px solid #9cc9ce; }
.problems { margin: 10px 0; padding: 8px 12px 8px 28px; background: #fff6f6; border-left: 4px solid #c53030; }
.problems li.warning { color: #7a5200; } .problems li.error { color: #9b1c1c; }
.examples { margin: 0; padding-left: 20px; }
.article p { background: #fff; padding: 10px 14px; border-radius: 8px; border: 1px solid #e3e9ec; }
mark { background: #fff1a8; padding: 0 1px; } mark.many { background: #ffd98a; }
.unused li { margin-bottom: 6px; }
.broken pre { white-space: pre-wrap; }
"""


def e(text: object) -> str:
    return escape(str(text), quote=True)


def _problem_list(problems: list[Problem]) -> str:
    if not problems:
        return ""
    items = "".join(
        f'<li class="{p.level.lower()}">line {p.line}: {e(p.level)}: {e(p.message)}. <em>Fix:</em> {e(p.fix)}</li>'
        for p in problems
    )
    return f'<ul class="problems">{items}</ul>'


def widget_html(doc: TopicDoc) -> str:
    """The answer the way the chat widget renders it: the bubble, then the "Source" disclosure."""
    quotes = "".join(f"<blockquote>“{e(q)}”</blockquote>" for q in doc.sources)
    intro = f"From the clinic's article, “{e(doc.title)}”:" if doc.title else "From the clinic's article:"
    source = (
        f'<details class="source" open><summary>Source</summary><div class="source-body">'
        f'<p class="source-intro">{intro}</p>{quotes}</div></details>'
        if doc.sources
        else ""
    )
    return f'<div class="widget"><div class="bubble">{e(doc.answer) or "<em>(no answer)</em>"}</div>{source}</div>'


def topic_html(doc: TopicDoc, problems: list[Problem], found: set[tuple[str, int]]) -> str:
    if doc.syntax:
        return (
            f'<section class="topic broken" id="topic-{e(doc.id)}"><h2>{e(doc.id)}</h2>'
            f'<p class="meta">{e(doc.path.name)}: this file cannot be read, so the bot cannot use it.</p>'
            f"{_problem_list(problems)}</section>"
        )
    grade = readability.grade(doc.answer) if doc.answer else 0.0
    too_hard = grade > readability.MAX_GRADE
    words = len(doc.answer.split())
    errors = sum(p.is_error for p in problems)
    status = (
        f'<span class="badge bad">{errors} error{"s" * (errors != 1)}</span>'
        if errors
        else f'<span class="badge warn">{len(problems)} warning{"s" * (len(problems) != 1)}</span>'
        if problems
        else '<span class="badge ok">check passed</span>'
    )
    personal = " · personal: also offers a care coordinator" if doc.text("personal").lower() == "true" else ""
    links = "".join(
        f'<li><a href="#{anchor_id(doc.id, i)}">{e(q[:90])}{"…" if len(q) > 90 else ""}</a></li>'
        if (doc.id, i) in found
        else f"<li>{e(q[:90])} <strong>(not found in the article)</strong></li>"
        for i, q in enumerate(doc.sources)
    )
    examples = "".join(f"<li>{e(x)}</li>" for x in doc.examples)
    return f"""
<section class="topic" id="topic-{e(doc.id)}">
  <h2>{e(doc.title or doc.id)}</h2>
  <p class="meta">content/topics/{e(doc.path.name)} · {e(faq.intent_response_key(doc.id))}{e(personal)} ·
    reading grade <span class="badge {"bad" if too_hard else "ok"}" data-grade="{grade:.1f}">{grade:.1f}</span>
    (8 or below) · {words} words · {status}</p>
  {_problem_list(problems)}
  <div class="columns">
    <div><h3>As the widget shows it</h3>{widget_html(doc)}
      <h3>Sources in the article</h3><ul>{links}</ul></div>
    <div><h3>Example questions ({len(doc.examples)})</h3><ol class="examples">{examples}</ol></div>
  </div>
</section>"""


def article_html(cover: Coverage, titles: dict[str, str]) -> str:
    out = []
    for segments in cover.paragraphs:
        parts = []
        for seg in segments:
            parts.append("".join(f'<span id="{e(a)}"></span>' for a in seg.anchors))
            if seg.topics:
                names = "; ".join(titles.get(t, t) for t in seg.topics)
                cls = ' class="many"' if len(seg.topics) > 1 else ""
                parts.append(
                    f'<mark{cls} data-topics="{e(" ".join(seg.topics))}" title="Quoted by: {e(names)}">{e(seg.text)}</mark>'
                )
            else:
                parts.append(e(seg.text))
        out.append(f"<p>{''.join(parts)}</p>")
    return "\n".join(out)


def render(project: Project, now: datetime | None = None) -> str:
    docs = [read_topic(p) for p in project.topic_files()]
    problems = run_checks(project)
    by_path: dict[Path, list[Problem]] = {}
    for problem in problems:
        by_path.setdefault(problem.path.resolve(), []).append(problem)
    quotes = {d.id: d.sources for d in docs if not d.syntax}
    cover = coverage(project.article, quotes)
    missing = {(t, q) for t, q in cover.missing}
    found = {(t, i) for t, qs in quotes.items() for i, q in enumerate(qs) if (t, q) not in missing}
    titles = {d.id: d.title or d.id for d in docs}
    errors = sum(p.is_error for p in problems)
    nav = "".join(f'<li><a href="#topic-{e(d.id)}">{e(titles[d.id])}</a></li>' for d in docs)
    topics = "".join(topic_html(d, by_path.get(d.path.resolve(), []), found) for d in docs)
    unused = (
        "".join(f"<li>{e(s)}</li>" for s in cover.unused_sentences)
        or "<li>Every sentence is used by an answer.</li>"
    )
    other = [p for p in problems if p.path.resolve() not in {d.path.resolve() for d in docs}]
    stamp = (now or datetime.now()).strftime("%Y-%m-%d %H:%M")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Content preview: {len(docs)} topics</title>
<style>{STYLE}</style></head>
<body>
<h1>Content preview</h1>
<p class="lead">{len(docs)} topics from content/topics, built {e(stamp)}.
  Check: {errors} error{"s" * (errors != 1)}, {len(problems) - errors} warning{"s" * (len(problems) - errors != 1)}
  (run <code>make check-content</code> for the full list). Nothing here is live until <code>make publish</code>.</p>
<nav><h2>Topics</h2><ul>{nav}</ul></nav>
{_problem_list(other) and f"<section><h2>Problems in other files</h2>{_problem_list(other)}</section>"}
<main id="topics">{topics}</main>
<section class="article" id="article"><h2>The article, with the quoted passages highlighted</h2>
{article_html(cover, titles)}</section>
<section class="unused" id="unused"><h2>Article sentences no answer uses yet</h2>
<ul>{unused}</ul></section>
</body></html>
"""


def write_preview(project: Project, out: Path | None = None) -> Path:
    out = Path(out) if out else project.preview_dir / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(project), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None, help="project folder (default: this repository)")
    parser.add_argument("--out", type=Path, default=None, help="default: build/preview/index.html")
    args = parser.parse_args(argv)
    out = write_preview(Project.at(args.root), args.out)
    print(f"Preview written to {out}\nOpen it in a browser: file://{out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
