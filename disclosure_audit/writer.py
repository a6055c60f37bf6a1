"""The one results writer: assemble results.json for a run, keep it in the store, write it and the reports."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from checks.results import results_document
from crawler import __version__
from crawler.store import Store
from reports.streaming import write_json


def write_results_json(results: dict[str, Any], out_dir: Path) -> Path:
    """Write results.json atomically and streamed: a reader never sees half a file, and the document
    is never held as one 40 MB string (same bytes as json.dumps(indent=2, ensure_ascii=False))."""
    return write_json(results, out_dir / "results.json")


def write_outputs(results: dict[str, Any], out_dir: Path, lang: str) -> list[Path]:
    """results.json and the human reports."""
    written = [write_results_json(results, out_dir)]
    # deferred: jinja2 and the templates (~0.1 s) only when reports are written
    from reports.render import render_all

    written.extend(render_all(results, out_dir, lang=lang))
    return written


def complete_run(store: Store, run_id: str, started: datetime, today: date, entry: dict[str, Any],
                 out_dir: Path, lang: str) -> dict[str, Any]:
    """Close a one-site run: assemble results.json, keep it in the store, write it and the reports."""
    results = results_document(run_id=run_id, started_at=iso_utc(started), finished_at=iso_utc(),
                               today=today.isoformat(), version=__version__, sites=[entry])
    store.finish_run(run_id, "done", results)
    write_outputs(results, out_dir, lang)
    return results


def iso_utc(value: datetime | None = None) -> str:
    """ISO-8601 UTC with a Z, as the contract writes times (now when no value is given)."""
    return (value or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
