"""`make check-content` on the repository's content and on deliberately broken copies of it.

Each broken case edits a temporary copy, runs the checker as `make` does, and asserts the exact
`path:line: LEVEL:` it prints and the exit code (1 with an error, 0 with warnings only).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from clinic.content import readability
from clinic.content.check import main as check_main
from clinic.content.project import REPO_ROOT, Project
from clinic.content.topics import read_topic
from clinic.devtools.editing import add_example, set_answer
from tests.clinic.content.helpers import line_number, run_module

GRADE_12 = (  # the article's words, barely simplified: Flesch-Kincaid grade 12.0
    "Treatment through the veins carries serious risks. Bacterial infections are common, and viral or "
    "fungal infections can also occur and cause life-threatening conditions, such as organ failure."
)
SIMPLE_60_WORDS = " ".join(["The shot goes into the knee."] * 10)  # 60 words, grade well under 8
SIMPLE_75_WORDS = SIMPLE_60_WORDS + " " + " ".join(["It is a small shot."] * 3)


def check(project: Project) -> tuple[int, list[str]]:
    result = run_module("clinic.content.check", "--root", str(project.root))
    assert result.stderr == "", result.stderr
    return result.returncode, result.stdout.strip().splitlines()


def problems_at(lines: list[str], location: str, level: str = "ERROR") -> list[str]:
    return [line for line in lines if line.startswith(f"{location}: {level}: ")]


def test_repository_content_passes_and_output_is_one_summary_line() -> None:
    code, lines = check(Project.at())
    assert code == 0, "\n".join(lines)
    assert lines[-1].startswith("check-content: OK, 0 errors")
    assert not [line for line in lines if ": ERROR: " in line]


def test_check_is_fast_and_does_not_import_rasa(tmp_path: Path, work_copy: Project) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sys, time\nstart = time.monotonic()\nfrom clinic.content.check import main\n"
        f"code = main(['--root', {str(work_copy.root)!r}])\n"
        "print('RASA_IMPORTED' if any(m == 'rasa' or m.startswith('rasa.') for m in sys.modules) else 'NO_RASA')\n"
        "print(f'SECONDS {time.monotonic() - start:.2f}')\n"
    )
    result = subprocess.run(
        [sys.executable, str(probe)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert "NO_RASA" in result.stdout, result.stdout + result.stderr
    seconds = float(re.search(r"SECONDS ([\d.]+)", result.stdout).group(1))
    assert seconds < 5


def test_fake_quote_is_an_error_at_its_line_with_the_closest_sentence(work_copy: Project) -> None:
    topic = work_copy.topics_dir / "iv_risks.yml"
    real = "oftentimes the risks appear to outweigh the potential benefits."
    text = topic.read_text()
    assert real in text
    topic.write_text(text.replace(real, "oftentimes the risks clearly outweigh the potential benefits."))
    code, lines = check(work_copy)
    assert code == 1
    found = problems_at(lines, f"content/topics/iv_risks.yml:{line_number(topic, 'clearly outweigh')}")
    assert len(found) == 1, lines
    assert "not in the article word for word" in found[0]
    assert f"closest article text: “{real}”" in found[0]
    assert "“clearly” → “appear to”" in found[0]
    assert ". Fix: " in found[0]
    assert lines[-1].startswith("check-content: FAILED with 1 error")


def test_straight_apostrophe_in_a_quote_points_at_the_curly_one(work_copy: Project) -> None:
    topic = work_copy.topics_dir / "neuro_conditions.yml"
    topic.write_text(
        topic.read_text().replace("Parkinson’s disease, Post-Stroke", "Parkinson's disease, Post-Stroke")
    )
    code, lines = check(work_copy)
    assert code == 1
    found = problems_at(
        lines,
        f"content/topics/neuro_conditions.yml:{line_number(topic, 'Parkinson' + chr(39) + 's disease, Post')}",
    )
    assert len(found) == 1, lines
    assert "the article uses a curly apostrophe (’) where the quote has a straight one" in found[0]
    assert "“Parkinson's” → “Parkinson’s”" in found[0]


def test_grade_12_answer_is_an_error_that_states_the_formula(work_copy: Project) -> None:
    assert readability.grade(GRADE_12) == 12.0
    topic = work_copy.topics_dir / "routes.yml"
    set_answer(topic, GRADE_12)
    code, lines = check(work_copy)
    assert code == 1
    found = problems_at(lines, f"content/topics/routes.yml:{line_number(topic, 'answer:')}")
    assert len(found) == 1, lines
    assert "reading grade 12.0 is above 8" in found[0]
    assert "Flesch-Kincaid grade = 0.39 × words per sentence + 11.8 × syllables per word − 15.59" in found[0]


def test_promise_word_is_an_error_on_the_line_that_says_it(work_copy: Project) -> None:
    topic = work_copy.topics_dir / "alternatives.yml"
    set_answer(topic, read_topic(topic).answer + " Fat stem cells are a miracle for sore knees.")
    code, lines = check(work_copy)
    assert code == 1
    found = problems_at(lines, f"content/topics/alternatives.yml:{line_number(topic, 'miracle')}")
    assert len(found) == 1, lines
    assert 'says "miracle"' in found[0]


def test_promise_word_is_allowed_when_the_quoted_source_says_it(work_copy: Project) -> None:
    topic = work_copy.topics_dir / "osteoarthritis.yml"
    assert "has proven to achieve pain relief" in topic.read_text()  # in its quoted source
    set_answer(topic, read_topic(topic).answer + " It has proven to ease pain.")
    code, lines = check(work_copy)
    assert code == 0, "\n".join(lines)


def test_duplicate_examples_across_topics_within_a_topic_and_against_nlu(work_copy: Project) -> None:
    routes = work_copy.topics_dir / "routes.yml"
    add_example(routes, "Is  the IV Dangerous")  # iv_risks has "is the iv dangerous"
    add_example(routes, "how is stem cell therapy given")  # routes already has it
    add_example(routes, "how much does it cost")  # data/nlu/out_of_scope.yml has it
    code, lines = check(work_copy)
    assert code == 1
    iv_line = line_number(work_copy.topics_dir / "iv_risks.yml", "- is the iv dangerous")
    across = problems_at(lines, f"content/topics/routes.yml:{line_number(routes, 'Is  the IV Dangerous')}")
    assert (
        len(across) == 1
        and f"also an example of topic iv_risks (content/topics/iv_risks.yml:{iv_line})" in across[0]
    )
    first = line_number(routes, "- how is stem cell therapy given")
    lines_text = routes.read_text().splitlines()
    second = max(
        i for i, line in enumerate(lines_text, 1) if line.strip() == "- how is stem cell therapy given"
    )
    twice = problems_at(lines, f"content/topics/routes.yml:{second}")
    assert len(twice) == 1 and f"listed twice in this topic (also on line {first})" in twice[0]
    nlu_line = line_number(work_copy.nlu_dir / "out_of_scope.yml", "- how much does it cost")
    nlu = problems_at(lines, f"content/topics/routes.yml:{line_number(routes, 'how much does it cost')}")
    assert len(nlu) == 1 and f"intent out_of_scope (data/nlu/out_of_scope.yml:{nlu_line})" in nlu[0]


def test_broken_yaml_reports_the_line(work_copy: Project) -> None:
    topic = work_copy.topics_dir / "joint_safety.yml"
    text = topic.read_text()
    topic.write_text(text.replace("examples:", " examples:", 1))  # indented by one space: not a field
    code, lines = check(work_copy)
    assert code == 1
    found = problems_at(lines, f"content/topics/joint_safety.yml:{line_number(topic, ' examples:')}")
    assert len(found) == 1 and "YAML syntax error" in found[0], lines


def test_unclosed_quote_reports_the_line_where_it_opened(work_copy: Project) -> None:
    topic = work_copy.topics_dir / "risk_factors.yml"
    text = topic.read_text()
    quote = '"Although each patient will need to discuss risk factors alongside potential benefits with his or her physician"'
    topic.write_text(text.replace(quote, quote[:-1]))
    code, lines = check(work_copy)
    assert code == 1
    found = problems_at(
        lines, f"content/topics/risk_factors.yml:{line_number(topic, 'Although each patient')}"
    )
    assert len(found) == 1 and "never closed" in found[0], lines


def test_missing_fields_and_too_few_examples(work_copy: Project) -> None:
    topic = work_copy.topics_dir / "risk_factors.yml"
    lines_before = topic.read_text().splitlines(keepends=True)
    kept = [line for line in lines_before if not line.startswith("title:")]
    examples_at = next(i for i, line in enumerate(kept) if line.startswith("examples:"))
    topic.write_text("".join(kept[: examples_at + 6]))  # 5 examples left
    code, lines = check(work_copy)
    assert code == 1
    assert problems_at(lines, "content/topics/risk_factors.yml:1") == [
        "content/topics/risk_factors.yml:1: ERROR: the topic has no title. Fix: add a line `title: <a short name for the topic>` "
        'at the top; visitors see it on "Did you mean" buttons'
    ]
    few = problems_at(lines, f"content/topics/risk_factors.yml:{line_number(topic, 'examples:')}")
    assert len(few) == 1 and "only 5 example questions; at least 10" in few[0]


def test_empty_answer_is_an_error(work_copy: Project) -> None:
    topic = work_copy.topics_dir / "alternatives.yml"
    doc = read_topic(topic)
    lines = topic.read_text().splitlines(keepends=True)
    start, end = doc.keys["answer"].start_mark.line, doc.values["answer"].end_mark.line
    lines[start:end] = ["answer:\n"]
    topic.write_text("".join(lines))
    code, out = check(work_copy)
    assert code == 1
    found = problems_at(out, f"content/topics/alternatives.yml:{line_number(topic, 'answer:')}")
    assert found and "has no answer" in found[0], out


def test_long_answer_warns_then_errors(work_copy: Project) -> None:
    topic = work_copy.topics_dir / "routes.yml"
    set_answer(topic, SIMPLE_60_WORDS)
    code, lines = check(work_copy)
    assert code == 0, "\n".join(lines)  # warnings only
    found = problems_at(lines, f"content/topics/routes.yml:{line_number(topic, 'answer:')}", "WARNING")
    assert len(found) == 1 and "60 words" in found[0]
    assert lines[-1].startswith("check-content: OK, 0 errors, 1 warning")

    set_answer(topic, SIMPLE_75_WORDS)
    code, lines = check(work_copy)
    assert code == 1
    found = problems_at(lines, f"content/topics/routes.yml:{line_number(topic, 'answer:')}")
    assert len(found) == 1 and "75 words" in found[0]


def test_example_with_a_colon_is_caught(work_copy: Project) -> None:
    topic = work_copy.topics_dir / "routes.yml"
    add_example(topic, "knee pain: can it help")
    code, lines = check(work_copy)
    assert code == 1
    found = problems_at(lines, f"content/topics/routes.yml:{line_number(topic, 'knee pain: can it help')}")
    assert len(found) == 1 and "double quotes" in found[0]


def test_same_term_under_two_values_and_broken_terms_yaml(work_copy: Project) -> None:
    terms = work_copy.terms
    text = terms.read_text()
    terms.write_text(text.replace("      - local injection\n", "      - local injection\n      - Drip\n"))
    code, lines = check(work_copy)
    assert code == 1
    found = problems_at(lines, f"content/terms.yml:{line_number(terms, '- Drip')}")
    assert len(found) == 1, lines
    assert (
        f'"drip" is listed under both route/intravenous (line {line_number(terms, "- drip")}) and route/intra_articular'
        in found[0]
    )

    terms.write_text(text.replace("    adipose:\n", "    adipose\n"))
    code, lines = check(work_copy)
    assert code == 1
    assert [
        line for line in lines if line.startswith("content/terms.yml:") and "YAML syntax error" in line
    ], lines


def test_unused_response_is_a_warning(work_copy: Project) -> None:
    domain = work_copy.domain
    domain.write_text(
        domain.read_text().replace(
            "responses:\n", "responses:\n  utter_nobody_sends_this:\n    - text: Hello.\n", 1
        )
    )
    code, lines = check(work_copy)
    assert code == 0, "\n".join(lines)
    found = problems_at(lines, f"domain.yml:{line_number(domain, 'utter_nobody_sends_this')}", "WARNING")
    assert len(found) == 1 and "never sent" in found[0]
    # responses sent by custom actions (response="utter_clarify") are not reported
    assert not [line for line in lines if "utter_clarify" in line or "utter_education_notice" in line]


def test_main_returns_the_exit_code_in_process(work_copy: Project, capsys) -> None:
    assert check_main(["--root", str(work_copy.root)]) == 0
    topic = work_copy.topics_dir / "iv_risks.yml"
    set_answer(topic, read_topic(topic).answer + " It is 100% safe.")
    assert check_main(["--root", str(work_copy.root)]) == 1
    out = capsys.readouterr().out
    assert f'content/topics/iv_risks.yml:{line_number(topic, "100%")}: ERROR: the answer says "100%"' in out
    started = time.monotonic()
    check_main(["--root", str(work_copy.root)])
    assert time.monotonic() - started < 3
