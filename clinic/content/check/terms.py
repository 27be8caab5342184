"""content/terms.yml: the words visitors type for each thing the bot recognises.

A term listed under two values (say "drip" under both intravenous and intra_articular) would
make the bot recognise it as whichever comes last, so it is an error.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from clinic.content.check.report import Problem, error, warning
from clinic.content.yaml_lines import (
    compose,
    duplicate_keys,
    is_plain_non_string,
    line_of,
    mapping_items,
    sequence_items,
)

LAYOUT = "the layout is `terms:` → type (route, cell_source, condition) → value (intravenous, ...) → a list of `- term` lines"


def check_terms(path: Path) -> list[Problem]:
    root, syntax = compose(path)
    if syntax:
        return [error(path, syntax.line, syntax.message, syntax.fix)]
    problems = [
        error(
            path,
            line_of(again),
            f"`{key}:` appears twice (also on line {line_of(first)}); only the last one is used",
            f"merge the two `{key}:` lists into one",
        )
        for key, first, again in duplicate_keys(root)
    ]
    sections = {k: v for k, _, v in mapping_items(root)}
    if "terms" not in sections:
        return problems + [error(path, 1, "there is no `terms:` section", LAYOUT)]
    seen: dict[str, tuple[str, int]] = {}  # normalised term -> (type/value, line)
    for node in [sections["terms"], *[v for _, _, v in mapping_items(sections["terms"])]]:
        problems += [
            error(
                path,
                line_of(again),
                f"`{key}:` appears twice (also on line {line_of(first)}); only the last one is used",
                f"merge the two `{key}:` lists into one",
            )
            for key, first, again in duplicate_keys(node)
        ]
    for kind, kind_key, values in mapping_items(sections["terms"]):
        if not isinstance(values, yaml.MappingNode):
            problems.append(error(path, line_of(kind_key), f"`{kind}:` has no values under it", LAYOUT))
            continue
        for value, value_key, terms in mapping_items(values):
            owner = f"{kind}/{value}"
            if not isinstance(terms, yaml.SequenceNode):
                problems.append(
                    error(path, line_of(value_key), f"`{value}:` should be a list of terms", LAYOUT)
                )
                continue
            for node in sequence_items(terms):
                line = line_of(node)
                if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
                    problems.append(
                        error(
                            path,
                            line,
                            "this term is empty or not a word",
                            "write one term per line after `- `",
                        )
                    )
                    continue
                if is_plain_non_string(node):
                    problems.append(
                        warning(
                            path,
                            line,
                            f"YAML reads `{node.value}` as a yes/no or a number, not as a word",
                            f'put it in double quotes: `- "{node.value}"`',
                        )
                    )
                term = " ".join(str(node.value).lower().split())
                if term in seen:
                    where, first_line = seen[term]
                    if where == owner:
                        problems.append(
                            warning(
                                path,
                                line,
                                f'"{term}" is listed twice under {value} (also on line {first_line})',
                                "delete one of the two lines",
                            )
                        )
                    else:
                        problems.append(
                            error(
                                path,
                                line,
                                f'"{term}" is listed under both {where} (line {first_line}) and {owner}',
                                "keep it under the one value it means and delete the other line",
                            )
                        )
                else:
                    seen[term] = (owner, line)
    return problems
