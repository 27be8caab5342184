"""A response in domain.yml that nothing sends is dead text: editors may polish it for nothing.

Responses are sent by rules and stories (data/**/*.yml, `- action: utter_...`), by the custom
actions (actions/*.py, `response="utter_..."`), and by a few of Rasa's own actions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

from clinic.content.check.report import Problem, error, warning
from clinic.content.yaml_lines import compose, line_of, mapping_items, sequence_items

# Responses Rasa's built-in actions send when they exist.
BUILT_IN = {"utter_default", "utter_back", "utter_restart", "utter_ask_rephrase"}


def _actions_in(node: yaml.Node | None, found: set[str]) -> None:
    """Every `action: <name>` anywhere in a rules/stories document."""
    for key, _, value in mapping_items(node):
        if key == "action" and isinstance(value, yaml.ScalarNode):
            found.add(str(value.value))
        else:
            _actions_in(value, found)
    for item in sequence_items(node):
        _actions_in(item, found)


def actions_in_data(data_dir: Path, skip: set[Path]) -> set[str]:
    found: set[str] = set()
    for path in sorted(data_dir.rglob("*.yml")):
        if path in skip:
            continue
        root, syntax = compose(path)
        if not syntax:
            _actions_in(root, found)
    return found


def responses_in_code(actions_dir: Path) -> set[str]:
    """Quoted `utter_...` names in the custom actions' Python source."""
    found: set[str] = set()
    for path in sorted(actions_dir.glob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.startswith("utter_")
            ):
                found.add(node.value)
    return found


def check_domain(domain: Path, data_dir: Path, actions_dir: Path, skip: set[Path]) -> list[Problem]:
    root, syntax = compose(domain)
    if syntax:
        return [
            error(
                domain,
                syntax.line,
                syntax.message,
                syntax.fix + " (domain.yml is a developer's file: tell them)",
            )
        ]
    sections = {k: v for k, _, v in mapping_items(root)}
    used = actions_in_data(data_dir, skip) | responses_in_code(actions_dir) | BUILT_IN
    forms = bool(mapping_items(sections.get("forms")))
    problems = []
    for name, key, _ in mapping_items(sections.get("responses")):
        base = name.split("/", 1)[0]  # utter_chitchat/ask_name is sent by action utter_chitchat
        if name in used or base in used or (forms and name.startswith("utter_ask_")):
            continue
        problems.append(
            warning(
                domain,
                line_of(key),
                f"the response {name} is never sent: no rule, story or custom action uses it",
                "delete it from domain.yml, or ask the developer to add a rule that sends it",
            )
        )
    return problems
