"""Fleet configuration: `agencies.yaml` (validated with pydantic) or the common CSV form.

Errors name the file, the entry and the field, and say what is expected (ARCHITECTURE.md: configuration
is validated at the edge). The CSV form is the one Taipei City's own checker uses
(`URL,name,depth,save_html,pagination`, UTF-8 with or without BOM); see docs/fleet.md.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

AGENCY_CODE = re.compile(r"^[0-9]{9}[A-Z0-9]$")


class ConfigError(Exception):
    """A configuration file the user must fix: the message names file, entry and field."""


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_pages: int = Field(2000, ge=1)
    max_depth: int = Field(10, ge=1)
    accessibility: bool = True
    a11y_pages: int | str | None = None
    a11y_level: Literal["A", "AA", "AAA"] | None = None  # --a11y-level for this agency (issue 18)
    per_host: int = Field(4, ge=1, le=64)
    timeout: float = Field(20.0, gt=0, le=300)
    external: Literal["check", "skip"] = "check"  # links to other hosts: requested or listed as not checked


class AgencyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    url: str
    code: str | None = None  # 機關代碼
    group: str | None = None
    hosts: list[str] = Field(default_factory=list)
    schedule: str | None = None  # a tag such as monthly / weekly, used to pick entries with --schedule
    max_pages: int | None = Field(None, ge=1)
    max_depth: int | None = Field(None, ge=1)
    accessibility: bool | None = None
    external: Literal["check", "skip"] | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL")
        return value.strip()

    @field_validator("code")
    @classmethod
    def _agency_code(cls, value: str | None) -> str | None:
        if value is not None and not AGENCY_CODE.match(value.strip()):
            raise ValueError("機關代碼 is 10 characters: 9 digits and a check character (e.g. 379000000A)")
        return value.strip() if value else value

    @property
    def key(self) -> str:
        """Identity of the entry inside a fleet run (stable across restarts)."""
        return self.url


class FleetConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    defaults: Limits = Field(default_factory=Limits)
    agencies: list[AgencyEntry] = Field(min_length=1)

    def limits_for(self, entry: AgencyEntry) -> Limits:
        data = self.defaults.model_dump()
        for key in ("max_pages", "max_depth", "accessibility", "external"):
            value = getattr(entry, key)
            if value is not None:
                data[key] = value
        return Limits(**data)


def load_config(path: str | Path) -> FleetConfig:
    """Read agencies.yaml or a CSV list; raise ConfigError with file, entry and field named."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: 無法讀取設定檔 / cannot read the configuration: {exc.strerror or exc}") from None
    if path.suffix.lower() == ".csv":
        return _from_csv(path, raw)
    try:
        data = yaml.safe_load(raw.decode("utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}" if where else ""
        raise ConfigError(f"{path}{line}: 不是有效的 YAML / not valid YAML: {exc}") from None
    if isinstance(data, list):
        data = {"agencies": data}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: 應為含 agencies 清單的 YAML / expected a mapping with an `agencies` list")
    try:
        return FleetConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(path, data, exc)) from None


def _explain(path: Path, data: dict[str, Any], exc: ValidationError) -> str:
    lines = []
    for err in exc.errors()[:10]:
        loc = list(err["loc"])
        where = ".".join(str(p) for p in loc) or "(top level)"
        if len(loc) >= 2 and loc[0] == "agencies" and isinstance(loc[1], int):
            entries = data.get("agencies") or []
            name = entries[loc[1]].get("name") if loc[1] < len(entries) and isinstance(entries[loc[1]], dict) else None
            field = ".".join(str(p) for p in loc[2:]) or "(entry)"
            where = f"agencies[{loc[1]}]" + (f" ({name})" if name else "") + f", field `{field}`"
        lines.append(f"{path}: {where}: {err['msg']}")
    return "\n".join(lines)


def _from_csv(path: Path, raw: bytes) -> FleetConfig:
    try:
        text = raw.decode("utf-8-sig")  # Excel and the Taipei list write a BOM
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: CSV 須為 UTF-8 / the CSV must be UTF-8") from None
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip() for f in reader.fieldnames or []]
    if "URL" not in fields:
        raise ConfigError(f"{path}: 缺少 URL 欄 / the header must have a URL column (URL,name,depth,save_html,pagination)")
    agencies: list[dict[str, Any]] = []
    for number, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        if not row.get("URL"):
            continue
        entry: dict[str, Any] = {"url": row["URL"], "name": row.get("name") or row["URL"]}
        depth = row.get("depth")
        if depth:
            if not depth.isdigit() or int(depth) < 1:
                raise ConfigError(f"{path} line {number}: field `depth`: expected a positive whole number, got {depth!r}")
            entry["max_depth"] = int(depth)
        try:
            agencies.append(AgencyEntry(**entry).model_dump())
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "URL"
            raise ConfigError(f"{path} line {number} ({entry['name']}): field `{field}`: {err['msg']}") from None
    if not agencies:
        raise ConfigError(f"{path}: 沒有任何機關 / no agency rows")
    return FleetConfig(agencies=agencies)


def name_quality(config: FleetConfig) -> list[str]:
    """Data-quality notes: names corrupted with literal '?' (seen in the Taipei list)."""
    return [e.name for e in config.agencies if "?" in e.name]
