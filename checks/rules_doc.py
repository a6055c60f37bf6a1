"""Write the README rule table and docs/rules.md from checks/data/rules.yaml (and the rubric's
`indeterminate` list, which makes a rule "not scored").

    python -m checks.rules_doc           # rewrite README.md's "## Rules" table and docs/rules.md
    python -m checks.rules_doc --check   # exit 1 when either differs from what rules.yaml gives

tests/checks/test_rules.py runs the check, so an entry edited in rules.yaml and not regenerated fails.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from checks.rules import Rule, RuleSet, rule_sets, rules
from checks.scoring import Rubric, load_rubric

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- rules:begin — generated from checks/data/rules.yaml by `python -m checks.rules_doc`; do not edit -->"
END = "<!-- rules:end -->"
NOT_SCORED = "(not scored)"

RULES_MD_HEAD = """# Rules

Every rule id a finding can carry, generated from `checks/data/rules.yaml` by
`python -m checks.rules_doc` (do not edit this page; `tests/checks/test_rules.py` fails when it differs).
Each rule cites the law article or guideline it enforces; what each family checks and why is in
the pages linked from README.md "Rules" (`docs/rules-*.md`, `docs/accessibility.md`,
`docs/robustness.md`). results.json carries the entries of a run in its `rules` block
(`docs/results-json.md`); the rubric (`checks/data/rubric.yaml`, `docs/reports.md`) scores them by id.

## Adding a rule

1. **The check.** A rule in an existing check: make its findings with `Finding.of(<id>, page,
   target, detail, evidence, detail_en=...)` (family and severity come from the rule's entry) and
   add the id to the class's `CheckMeta(rules=(...))`. A new check: a module
   `checks/<name>.py` with a `Check` subclass whose `meta = CheckMeta(id=<unique check id>,
   check=<family>, rules=(<ids>,))`; it registers itself (`checks/audit.py` imports every module of
   the package). Cite the rule in the module docstring; keywords and thresholds go to
   `checks/data/*.yaml` with their sources.
2. **`checks/data/rules.yaml`.** One entry under the id: `check` (the family, the same as in the
   findings), `indicator`, `severity` (and `severities` when the evidence decides), `title_zh`,
   `title_en`, `citation`, and a `description_zh` / `description_en` for the README table. A
   declared id missing here stops the module from importing; `Finding.of` refuses an id that is
   not here, and a `severity=` the entry does not allow.
3. **`checks/data/rubric.yaml`.** Name the id in the `rules` of the criterion that scores it, or in
   `indeterminate.rules` when its findings never say anything about the site. A rubric naming an
   id not in rules.yaml is refused; `tests/checks/test_rules.py` fails while an id is in neither place.
4. **The generated pages.** `python -m checks.rules_doc` rewrites this page and README.md's table.
5. **Tests.** A unit test of the check on built facts (`tests/disclosure_helpers.py`; real pages
   from `../shared/realworld` where INDEX.md describes them), and, when the demo site shows the
   problem, its finding in `disclosure_audit/demo_site/answer_key.yaml` (`tests/e2e/test_demo.py` compares).
   `tests/e2e/test_demo.py` also checks that every emitted finding agrees with its rules.yaml entry
   (family, allowed severity) and appears in results.json `rules`.

Files touched: the check module, rules.yaml, rubric.yaml, README.md and docs/rules.md (generated),
the tests — and docs/rules-*.md when the family's page explains the rule.
"""


def _cell(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def _indicator(rule: Rule | RuleSet, unscored: frozenset[str]) -> str:
    return NOT_SCORED if getattr(rule, "id", None) in unscored else rule.indicator


def _severity(rule: Rule) -> str:
    return rule.severity_note or rule.severity


def _rows() -> list[Rule | RuleSet]:
    """rules.yaml order; a rule set's row comes before the first rule of its family."""
    sets = {s.check: s for s in rule_sets().values()}
    out: list[Rule | RuleSet] = []
    for rule in rules().values():
        if rule.check in sets:
            out.append(sets.pop(rule.check))
        out.append(rule)
    return out + list(sets.values())


def _criterion(rubric: Rubric, rule: str | None, check: str) -> str:
    """The shipped rubric's criterion for a rule (`rule` None: an id of the family's rule set)."""
    if rule is not None and rule in rubric.indeterminate.rules:
        return "— (indeterminate)"
    criterion = rubric.criterion_for(rule or "", check)
    return f"`{criterion.id}`" if criterion else "—"


def _unscored() -> frozenset[str]:
    return frozenset(load_rubric().indeterminate.rules)


def readme_table() -> str:
    """The README "## Rules" table, markers included."""
    unscored = _unscored()
    lines = [BEGIN, "| check | rule | severity | indicator | what it means / rule cited |", "|---|---|---|---|---|"]
    for row in _rows():
        if isinstance(row, RuleSet):
            lines.append(f"| {row.check} | {row.ids} | {row.severity_note} | {row.indicator} | "
                         f"{_cell(row.description_en or row.description_zh or row.citation)} |")
            continue
        text = row.description_zh or row.description_en or f"{row.title_en} — {row.citation}"
        lines.append(f"| {row.check} | `{row.id}` | {_cell(_severity(row))} | {_indicator(row, unscored)} | "
                     f"{_cell(text)} |")
    lines.append(END)
    return "\n".join(lines)


def rules_md() -> str:
    """docs/rules.md: the walk-through, then one table per check family."""
    unscored = _unscored()
    rubric = load_rubric()
    out = [RULES_MD_HEAD]
    families: dict[str, list[Rule | RuleSet]] = {}
    for row in _rows():
        families.setdefault(row.check, []).append(row)
    for family, rows in families.items():
        out.append(f"## {family}\n")
        out.append("| rule | severity | indicator | rubric criterion | title (zh-TW) | title (en) | rule cited |")
        out.append("|---|---|---|---|---|---|---|")
        for row in rows:
            if isinstance(row, RuleSet):
                out.append(f"| {row.ids} | {row.severity_note} | {row.indicator} | {_criterion(rubric, None, family)} "
                           f"| (the id) | (the id) | {_cell(row.citation)} |")
            else:
                out.append(f"| `{row.id}` | {_cell(_severity(row))} | {_indicator(row, unscored)} | "
                           f"{_criterion(rubric, row.id, family)} | {_cell(row.title_zh)} | {_cell(row.title_en)} | "
                           f"{_cell(row.citation)} |")
        out.append("")
    return "\n".join(out)


def readme_with_table(readme: str) -> str:
    """README.md with the text between the markers replaced by the generated table."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README.md: markers missing ({BEGIN} … {END})")
    return readme[:start] + readme_table() + readme[end + len(END):]


def outputs(root: Path = ROOT) -> dict[Path, str]:
    """Each generated file and the text it should hold."""
    readme = root / "README.md"
    return {readme: readme_with_table(readme.read_text(encoding="utf-8")), root / "docs" / "rules.md": rules_md()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m checks.rules_doc", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report files that differ (exit 1)")
    args = parser.parse_args(argv)
    stale = [path for path, text in outputs().items()
             if not path.exists() or path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} differs from checks/data/rules.yaml: run python -m checks.rules_doc")
        return 1 if stale else 0
    for path, text in outputs().items():
        if path in stale:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
