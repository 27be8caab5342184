"""Check the editors' content before it reaches visitors: `make check-content`.

Prints every problem as `path:line: ERROR|WARNING: message. Fix: what to do`, then a one-line
summary. Exit code 1 when there is an error, 0 when there are only warnings (or none).
Fast: reads the files only, no Rasa, no training.

Usage: python -m clinic.content.check [--root DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from clinic.content.check.domain import check_domain
from clinic.content.check.examples import duplicate_problems, nlu_examples, topic_examples
from clinic.content.check.report import Problem, error, sort_key, summary
from clinic.content.check.terms import check_terms
from clinic.content.check.topics import check_topic
from clinic.content.project import Project
from clinic.content.topics import read_topic


def run_checks(project: Project) -> list[Problem]:
    """All problems in the project's content, sorted by file and line."""
    problems: list[Problem] = []
    docs = [read_topic(p) for p in project.topic_files()]
    if not docs:
        problems.append(
            error(
                project.topics_dir,
                1,
                "there are no topic files",
                "add one file per answer in content/topics (docs/editors.md)",
            )
        )
    for doc in docs:
        problems += check_topic(doc, project.article)
    nlu = []
    for path in project.hand_written_nlu_files():
        found, broken = nlu_examples(path)
        nlu += found
        problems += broken
    topics = [example for doc in docs for example in topic_examples(doc)]
    problems += duplicate_problems(topics, nlu, project.relative)
    if project.terms.exists():
        problems += check_terms(project.terms)
    if project.domain.exists():
        problems += check_domain(project.domain, project.data_dir, project.actions_dir, {project.faq_data})
    return sorted(problems, key=sort_key)


def report(project: Project, problems: list[Problem]) -> str:
    lines = [p.format(project.relative(p.path)) for p in problems]
    checked = (
        f"{len(project.topic_files())} topic files, content/terms.yml, domain.yml, "
        f"{len(project.hand_written_nlu_files())} NLU files"
    )
    return "\n".join(lines + [summary(problems, checked)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None, help="project folder (default: this repository)")
    args = parser.parse_args(argv)
    project = Project.at(args.root)
    problems = run_checks(project)
    print(report(project, problems))
    return 1 if any(p.is_error for p in problems) else 0
