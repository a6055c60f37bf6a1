"""Recognise Taiwanese personal identity numbers and mask them before anything is stored.

Rule: 個人資料保護法 (身分證統一編號 is personal data, §2 (1)) and 臺北市政府各機關網站服務作業原則
參、二(二): a government site must not publish them. This module does not judge (checks/exposure.py
does); it keeps the tool from becoming a second copy of a leak: every number it recognises is replaced
by a masked form (`A12****789`) in the page facts before they reach the run store, results.json,
the reports or a log, and only the masked forms and counts are recorded.

Recognised, each *only* with a valid check digit (sources and worked examples: docs/rules-exposure.md):

- 國民身分證統一編號: a letter (the place of first registration), 1 or 2 (sex), 7 digits, a check digit;
- 新式外來人口統一證號 (居留證, since 2021-01-02): a letter, 8 or 9 (sex), 7 digits, a check digit;
  same algorithm as the identity card number;
- 舊式外來人口統一證號 (居留證 before 2021): two letters (the second A–D), 7 digits, a check digit; the
  second letter counts with the last digit of its own code.

Check digit: the first letter becomes its two-digit code (A=10 … H=17, I=34, J=18 … N=22, O=35,
P=23 … V=29, W=32, X=30, Y=31, Z=33); with the next nine digits that gives eleven digits, weighted
1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1; the number is valid when the weighted sum is a multiple of 10.

Full-width digits and letters (Ａ１２…, common in Word documents) are read as their ASCII forms.
Lower-case letters and numbers broken by spaces or hyphens are not recognised (documented limit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

LETTER_CODES: dict[str, int] = {
    "A": 10, "B": 11, "C": 12, "D": 13, "E": 14, "F": 15, "G": 16, "H": 17, "I": 34, "J": 18,
    "K": 19, "L": 20, "M": 21, "N": 22, "O": 35, "P": 23, "Q": 24, "R": 25, "S": 26, "T": 27,
    "U": 28, "V": 29, "W": 32, "X": 30, "Y": 31, "Z": 33,
}
WEIGHTS = (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1)
KINDS = ("national-id", "resident-new", "resident-old")
MAX_LISTED = 50  # masked forms kept per page or document; the count says how many there were

_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-D0-9][0-9]{8}(?![A-Za-z0-9])")
# full-width ０-９ Ａ-Ｚ ａ-ｚ → ASCII, one character for one, so positions stay the same
_FULL_WIDTH = {cp: cp - 0xFEE0 for cp in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))}
# the candidate's shape in ASCII or full width, without its boundaries: whatever `_CANDIDATE` finds
# after the full-width translation this finds before it, so a text without it has nothing to mask
_SHAPE = re.compile("[A-ZＡ-Ｚ][A-DＡ-Ｄ0-9０-９][0-9０-９]{8}")


def kind_of(number: str) -> str | None:
    """The kind of a 10-character candidate when its check digit is valid, else None."""
    if len(number) != 10 or number[0] not in LETTER_CODES or not number[2:].isdigit():
        return None
    code = LETTER_CODES[number[0]]
    second = number[1]
    if second in "12":
        kind, value = "national-id", int(second)
    elif second in "89":
        kind, value = "resident-new", int(second)
    elif second in "ABCD":
        kind, value = "resident-old", LETTER_CODES[second] % 10
    else:
        return None
    digits = (code // 10, code % 10, value, *(int(c) for c in number[2:]))
    return kind if sum(d * w for d, w in zip(digits, WEIGHTS, strict=True)) % 10 == 0 else None


def mask(number: str) -> str:
    """`A123456789` → `A12****789`: enough to find it on the page, not enough to reuse it."""
    return number[:3] + "****" + number[7:]


@dataclass
class Found:
    """Numbers recognised in one page or document: masked forms only ever leave this object."""

    occurrences: int = 0
    invalid: int = 0  # candidates of the right shape whose check digit is wrong (not personal data)
    _numbers: dict[str, str] = field(default_factory=dict, repr=False)  # number → kind, in memory only

    def add(self, number: str, kind: str) -> None:
        self.occurrences += 1
        self._numbers.setdefault(number, kind)

    @property
    def count(self) -> int:
        return len(self._numbers)

    def to_json(self) -> dict[str, Any] | None:
        """{numbers: [{masked, kind}] sorted, count (distinct), occurrences, invalid}; None when nothing."""
        if not self.occurrences and not self.invalid:
            return None
        entries = sorted((mask(number), kind) for number, kind in self._numbers.items())
        return {"numbers": [{"masked": m, "kind": k} for m, k in entries[:MAX_LISTED]],
                "count": self.count, "occurrences": self.occurrences, "invalid": self.invalid}


def scan(text: str, found: Found) -> str:
    """`text` with every valid number masked (same length: line numbers and offsets stay valid);
    what was recognised is added to `found`."""
    if not text or len(text) < 10:
        return text
    probe = text.translate(_FULL_WIDTH)
    if not _CANDIDATE.search(probe):
        return text
    out: list[str] = []
    last = 0
    for m in _CANDIDATE.finditer(probe):
        kind = kind_of(m.group())
        if kind is None:
            found.invalid += 1
            continue
        found.add(m.group(), kind)
        out.append(text[last:m.start()])
        out.append(mask(m.group()))
        last = m.end()
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def _page_strings(facts: Any, links: list[Any]) -> str:
    """Every string `mask_page` scans, one per line (a line break is no letter or digit, so no
    number runs across two fields)."""
    strings: list[str] = [facts.title or "", facts.text or "", facts.noscript or ""]
    strings += [text for _, text in facts.headings]
    strings += [v for values in facts.meta.values() for v in values]
    strings += [image["alt"] for image in facts.images if image.get("alt")]
    for form in facts.forms:
        strings.append(form.get("text") or "")
        for item in form.get("inputs") or []:
            strings += [item.get("value") or "", item.get("title") or ""]
    strings += [key.get("text") or "" for key in facts.accesskeys]
    for item in getattr(facts, "label_values", None) or []:
        strings += [item[name] for name in ("label", "value") if isinstance(item.get(name), str)]
    strings += [link.text for link in links]
    return "\n".join(strings)


def mask_page(facts: Any, links: list[Any]) -> None:
    """Mask every number in a parsed page's text fields and link texts; record what was seen in
    `facts.artifacts.personal_ids` (only when something was). URLs are left as they are: a link must
    still be requested as written (a number in an address is a documented limit)."""
    if not _SHAPE.search(_page_strings(facts, links)):
        return  # nearly every page: one search instead of a translation and a scan per field
    found = Found()
    facts.title = scan(facts.title, found)
    facts.text = scan(facts.text, found)
    facts.headings = [(level, scan(text, found)) for level, text in facts.headings]
    facts.meta = {key: [scan(v, found) for v in values] for key, values in facts.meta.items()}
    if facts.noscript:
        facts.noscript = scan(facts.noscript, found)
    for image in facts.images:
        if image.get("alt"):
            image["alt"] = scan(image["alt"], found)
    for form in facts.forms:
        form["text"] = scan(form.get("text") or "", found)
        for item in form.get("inputs") or []:
            item["value"] = scan(item.get("value") or "", found)
            item["title"] = scan(item.get("title") or "", found)
    for key in facts.accesskeys:
        key["text"] = scan(key.get("text") or "", found)
    for item in getattr(facts, "label_values", None) or []:  # <dt>身分證字號</dt><dd>…</dd>
        for name in ("label", "value"):
            if isinstance(item.get(name), str):
                item[name] = scan(item[name], found)
    for link in links:
        link.text = scan(link.text, found)
    if found.count:
        facts.artifacts.personal_ids = found.to_json()
