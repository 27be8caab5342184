"""Run `rasa data validate` and fail on any warning not explained in tests/validation_allowlist.yml.

Rasa's own --fail-on-warnings cannot tell a known, explained warning from a new one.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def warnings_in(output: str) -> list:
    found = re.findall(r"UserWarning: (.*?)(?:\n\s*More info|\n\x1b|\n\S|\Z)", output, flags=re.S)
    return [" ".join(w.split()) for w in found]


def main() -> int:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "rasa"), "data", "validate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    output = result.stdout + result.stderr
    allowed = [e["match"] for e in yaml.safe_load((ROOT / "tests/validation_allowlist.yml").read_text())]
    unexplained = [w for w in warnings_in(output) if not any(a in w for a in allowed)]
    for warning in unexplained:
        print(f"Unexplained validation warning: {warning}")
    if result.returncode != 0:
        print(output[-3000:])
        print("rasa data validate failed")
        return 1
    if unexplained:
        print("Fix these or explain them in tests/validation_allowlist.yml")
        return 1
    print(f"rasa data validate: OK ({len(warnings_in(output))} known warnings, all explained)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
