"""Writes org/management.yaml's StackSet TemplateBody from org/member-role.yaml.

A StackSet's template must be inline or at a URL (`cloudformation package` does not package
StackSets), so the member role template is kept as its own file and copied in here; the tests
fail if the two differ. Run it with `make org`.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEGIN = "        # BEGIN org/member-role.yaml (make org writes this block)\n"
END = "        # END org/member-role.yaml\n"


def inline(member: str) -> str:
    return "".join(f"          {line}\n" if line else "\n" for line in member.splitlines())


def main() -> None:
    management = ROOT / "org" / "management.yaml"
    text = management.read_text(encoding="utf-8")
    member = (ROOT / "org" / "member-role.yaml").read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    block = BEGIN + "      TemplateBody: |\n" + inline(member) + END
    management.write_text(pattern.sub(lambda _: block, text), encoding="utf-8")


if __name__ == "__main__":
    main()
