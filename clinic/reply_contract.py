"""The reply contract between the bot and the website chat widget: check a `custom` payload.

The bot decorates some of its messages with a `custom: {data: {kind: ...}}` payload (a source, an
alert, a notice, a no-answer mark, a handoff confirmation, and in a live chat the coordinator who
wrote a message or a change of the live chat's state) and the widget renders it. What each
kind must carry is written once, in reply_contract.schema.json beside this file (JSON Schema
draft-07, the version the pinned jsonschema 3.2.0 knows), with one example of each kind; the
widget's side is in widget/src/widget.js and docs/reply-contract.md tells the whole story.

The tests check every response and action against it, and the widget against its examples.
``python -m clinic.reply_contract`` checks domain.yml and the built FAQ responses
(data/nlu/faq.yml) by hand and lists what does not conform.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator, RefResolver

SCHEMA_PATH = Path(__file__).with_name("reply_contract.schema.json")
ROOT = Path(__file__).resolve().parents[1]
RESPONSE_FILES = (ROOT / "domain.yml", ROOT / "data" / "nlu" / "faq.yml")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The schema, read once (a JSON file, so the widget's tooling can read it too)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def kinds() -> list[str]:
    """Every `kind` the contract knows, in the schema's order."""
    branches = schema()["definitions"]["data"]["oneOf"]
    return [branch["$ref"].rsplit("/", 1)[-1] for branch in branches]


def examples() -> dict[str, list[dict[str, Any]]]:
    """The example `data` objects of each kind, as the widget receives them over socket.io."""
    definitions = schema()["definitions"]
    return {kind: definitions[kind].get("examples", []) for kind in kinds()}


def _validator(part: str | None = None) -> Draft7Validator:
    """The whole contract, or one kind's definition (with the schema's own `$ref`s resolvable)."""
    document = schema()
    target = document if part is None else document["definitions"][part]
    return Draft7Validator(target, resolver=RefResolver.from_schema(document))


def _where(error: Any, *prefix: str) -> str:
    """Where in the payload the error is, e.g. 'data/quotes/0' ('(top)' for the payload itself)."""
    return "/".join(str(step) for step in (*prefix, *error.absolute_path)) or "(top)"


def problems(custom: Any) -> list[str]:
    """What is wrong with one `custom` payload ([] when it conforms), each with where it is.

    A `oneOf` failure only says "not valid under any of the given schemas"; when the payload
    names a known kind, that kind's own errors are given instead, which say what to fix."""
    errors = list(_validator().iter_errors(custom))
    found = [f"{_where(error)}: {error.message}" for error in errors if not error.absolute_path]
    if any(error.absolute_path for error in errors):  # something is wrong inside `data`
        data = custom["data"]
        known = ", ".join(kinds())
        if not isinstance(data, dict):
            found.append(f"data: must be an object with a kind, one of {known}")
        elif data.get("kind") in kinds():
            found += [f"{_where(e, 'data')}: {e.message}" for e in _validator(data["kind"]).iter_errors(data)]
        else:
            found.append(f"data/kind: {data.get('kind')!r} is not one of the kinds {known}")
    return sorted(found)


class ReplyContractError(ValueError):
    """A `custom` payload the widget would not understand."""


def check(custom: Any) -> None:
    """Raise ReplyContractError listing the problems, if there are any."""
    found = problems(custom)
    if found:
        raise ReplyContractError("; ".join(found))


def custom_payloads(responses: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(name, custom) for every response variation with a `custom` part (a domain's `responses:`)."""
    for name, variations in responses.items():
        for variation in variations or []:
            if isinstance(variation, dict) and "custom" in variation:
                yield name, variation["custom"]


def responses_in(path: Path) -> dict[str, Any]:
    """The `responses:` of a domain or training-data file."""
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {}


def main(paths: list[Path]) -> int:
    """Check every custom payload in the files' responses; print the problems, 1 if any."""
    failures = 0
    for path in paths:
        for name, custom in custom_payloads(responses_in(path)):
            for problem in problems(custom):
                failures += 1
                print(f"{path}: {name}: {problem}")
    print("reply contract: " + (f"{failures} problem(s)" if failures else "every custom payload conforms"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main([Path(arg) for arg in sys.argv[1:]] or list(RESPONSE_FILES)))
