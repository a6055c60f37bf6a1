"""Fleet runs: audit many agencies with bounded concurrency, isolate failures, resume after interruption.

Resume works at site granularity: `fleet-state.json` in the output folder records the run id and each
site's state, written atomically after every change. A site that was finished is never redone; a site
that was in progress when the run was interrupted (SIGINT, SIGTERM, kill -9) has its partial rows
deleted and is audited again, so no page or finding is lost or counted twice. A lock file refuses a
second run on the same output folder while one is active.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from checks.facts import Agency
from checks.results import empty_disclosure, results_document
from crawler import __version__
from crawler.store import Store, default_db_url
from disclosure_audit.crawl import crawl_site, kill_children
from disclosure_audit.fleet_config import AgencyEntry, FleetConfig, load_config
from disclosure_audit.options import (
    AgencyInfo,
    AuditError,
    AuditOptions,
    AxeOptions,
    CheckOptions,
    CrawlOptions,
    OutputOptions,
    prepare_out_dir,
)
from disclosure_audit.pipeline import finalize_site
from disclosure_audit.writer import iso_utc, write_outputs, write_results_json

STATE_FILE = "fleet-state.json"
LOCK_FILE = ".fleet.lock"


@dataclass
class FleetOptions:
    config: Path
    out_dir: Path
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    jobs: int = 2
    schedule: str | None = None
    db_url: str | None = None
    accessibility: bool | None = None  # None: per the config
    lang: str = "zh-TW"
    quiet: bool = False
    a11y: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


class Lock:
    """An exclusive lock on the output folder's run store (released by the OS if we are killed)."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / LOCK_FILE
        self.handle: TextIO | None = None

    def __enter__(self) -> Lock:
        self.handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the run
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.seek(0)
            pid = self.handle.read().strip() or "?"
            self.handle.close()
            raise AuditError(f"另一個稽核正在使用 {self.path.parent}（程序 {pid}）/ another run is active "
                             f"on this output folder (pid {pid}); wait for it or use another --out", 2) from None
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(str(os.getpid()))
        self.handle.flush()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.handle:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()


def slug(entry: AgencyEntry) -> str:
    host = urlsplit(entry.url).netloc.replace(":", "_")
    base = f"{entry.code}-{host}" if entry.code else host
    return re.sub(r"[^A-Za-z0-9._-]", "_", base)[:100]


def config_digest(cfg: FleetConfig) -> str:
    return hashlib.sha1(cfg.model_dump_json().encode()).hexdigest()[:16]


class FleetState:
    """fleet-state.json: run id plus each site's status, site id and output folder; atomic writes."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data
        self.mutex = threading.Lock()

    @classmethod
    def load(cls, out_dir: Path) -> FleetState | None:
        path = out_dir / STATE_FILE
        if not path.exists():
            return None
        try:
            return cls(path, json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            return None

    def save(self) -> None:
        with self.mutex:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.data, ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(tmp, self.path)

    def site(self, key: str) -> dict[str, Any]:
        return self.data["sites"].setdefault(key, {"status": "pending"})


def audit_options(fleet: FleetOptions, cfg: FleetConfig, entry: AgencyEntry, out_dir: Path) -> AuditOptions:
    """The same composed options the CLI builds, from one agencies.yaml entry and the fleet's defaults."""
    limits = cfg.limits_for(entry)
    a11y = dict(fleet.a11y)
    if limits.a11y_pages is not None:
        a11y.setdefault("sample_size", limits.a11y_pages)
    if limits.a11y_level is not None:
        a11y["level"] = limits.a11y_level
    accessibility = limits.accessibility if fleet.accessibility is None else fleet.accessibility
    crawl = CrawlOptions(url=entry.url, hosts=list(entry.hosts), max_pages=limits.max_pages,
                         max_depth=limits.max_depth, per_host_concurrency=limits.per_host,
                         download_timeout=limits.timeout, external=limits.external, settings=dict(fleet.settings))
    checks = CheckOptions(today=fleet.today, check_options={"a11y_level": a11y["level"]} if a11y.get("level") else {})
    return AuditOptions(crawl=crawl, axe=AxeOptions(accessibility=accessibility, a11y=a11y), checks=checks,
                        output=OutputOptions(out_dir=out_dir, lang=fleet.lang, quiet=True),
                        agency=AgencyInfo(agency_name=entry.name, agency_code=entry.code, group=entry.group))


def audit_entry(store: Store, db_url: str, run_id: str, fleet: FleetOptions, cfg: FleetConfig,
                entry: AgencyEntry, state: FleetState) -> dict[str, Any]:
    """Audit one agency; any failure becomes a `failed` site entry with the reason, never an exception."""
    record = state.site(entry.key)
    if record.get("site_id"):
        store.delete_site(record["site_id"])  # interrupted earlier: start this site afresh
    site_dir = fleet.out_dir / slug(entry)
    site_dir.mkdir(parents=True, exist_ok=True)
    opts = audit_options(fleet, cfg, entry, site_dir)
    agency = Agency(name=entry.name, url=entry.url, code=entry.code, group=entry.group)
    site_id = store.create_site(run_id, agency, [urlsplit(entry.url).hostname or "", *entry.hosts])
    record.update(status="running", site_id=site_id, dir=site_dir.name)
    state.save()
    t0 = time.monotonic()
    try:
        crawl_site(opts, db_url, site_id, start_method="spawn")
        site = finalize_site(store, run_id, site_id, opts, time.monotonic() - t0)
    except AuditError as exc:
        site = failed_entry(entry, str(exc), time.monotonic() - t0)
        store.update_site(site_id, status="failed", detail=str(exc))
    except Exception as exc:  # noqa: BLE001 - isolate one site's failure from the fleet
        site = failed_entry(entry, f"稽核失敗 / audit failed: {type(exc).__name__}: {exc}"[:500],
                            time.monotonic() - t0)
        store.update_site(site_id, status="failed", detail=site["detail"])
    doc = results_document(run_id=run_id, started_at=state.data["started_at"], finished_at=_now(),
                           today=fleet.today.isoformat(), version=__version__, sites=[site])
    write_outputs(doc, site_dir, fleet.lang)
    record.update(status=site["status"], finished_at=_now())
    state.save()
    return site


def failed_entry(entry: AgencyEntry, detail: str, duration: float) -> dict[str, Any]:
    return {"agency": {"name": entry.name, "code": entry.code, "url": entry.url, "group": entry.group},
            "status": "failed", "detail": detail,
            "stats": {"pages": 0, "documents": 0, "links_checked": 0, "duration_s": round(duration, 2)},
            "disclosure": empty_disclosure(), "scores": {"dimension": None, "indicators": []},
            "accessibility": {"status": "not_run", "pages_tested": 0, "detail": None}, "findings": []}


def run_fleet(fleet: FleetOptions, progress: TextIO | None = None) -> dict[str, Any]:
    """Audit every agency of the configuration; resume an interrupted run of the same configuration."""
    cfg = load_config(fleet.config)
    entries = [e for e in cfg.agencies if fleet.schedule is None or e.schedule == fleet.schedule]
    if not entries:
        raise AuditError(f"{fleet.config}: 沒有排程標籤為 {fleet.schedule} 的機關 / no agency has schedule "
                         f"tag {fleet.schedule!r}", 2)
    out_dir = prepare_out_dir(Path(fleet.out_dir))
    fleet.out_dir = out_dir
    out = progress if progress is not None else (open(os.devnull, "w") if fleet.quiet else sys.stderr)  # noqa: SIM115
    with Lock(out_dir):
        db_url = fleet.db_url or default_db_url(out_dir)
        store = Store(db_url)
        try:
            return _run_locked(fleet, cfg, entries, store, db_url, out)
        finally:
            store.close()


def _run_locked(fleet: FleetOptions, cfg: FleetConfig, entries: list[AgencyEntry], store: Store, db_url: str,
                out: TextIO) -> dict[str, Any]:
    digest = config_digest(cfg) + (f":{fleet.schedule}" if fleet.schedule else "")
    state = FleetState.load(fleet.out_dir)
    if state and state.data.get("digest") == digest and not state.data.get("finished") \
            and state.data.get("today") == fleet.today.isoformat() and store.run(state.data["run_id"]):
        done = sum(1 for s in state.data["sites"].values() if s["status"] in ("ok", "partial", "failed"))
        print(f"續跑 / resuming run {state.data['run_id']}: {done}/{len(entries)} sites already done", file=out)
    else:
        run_id = store.create_run(fleet.today, __version__, {"config": str(fleet.config), "fleet": True})
        state = FleetState(fleet.out_dir / STATE_FILE, {"run_id": run_id, "digest": digest, "today":
                                                          fleet.today.isoformat(), "started_at": _now(),
                                                          "finished": False, "sites": {}})
        state.save()
    run_id = state.data["run_id"]
    pending = [e for e in entries if state.site(e.key)["status"] not in ("ok", "partial", "failed")]
    total, started = len(entries), time.monotonic()
    counters = {"done": total - len(pending), "pages": 0, "errors": 0}

    previous_handler = signal.signal(signal.SIGTERM, _raise_interrupt)
    pool = ThreadPoolExecutor(max_workers=max(1, fleet.jobs))
    try:
        futures: dict[Future, AgencyEntry] = {}
        queue = list(pending)
        while queue or futures:
            while queue and len(futures) < max(1, fleet.jobs):
                entry = queue.pop(0)
                futures[pool.submit(audit_entry, store, db_url, run_id, fleet, cfg, entry, state)] = entry
            done, _ = wait(list(futures), timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                entry = futures.pop(future)
                site = future.result()
                counters["done"] += 1
                counters["pages"] += site["stats"]["pages"]
                counters["errors"] += site["status"] == "failed"
                rate = counters["pages"] / max(time.monotonic() - started, 1e-6)
                print(f"[{counters['done']}/{total}] {entry.name}: {site['status']}, {site['stats']['pages']} 頁/pages"
                      f" · {rate:.1f} pages/s · errors {counters['errors']}", file=out, flush=True)
    except KeyboardInterrupt:
        kill_children()
        pool.shutdown(wait=False, cancel_futures=True)
        state.save()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
    pool.shutdown(wait=True)

    sites = []
    for entry in entries:
        record = state.site(entry.key)
        path = fleet.out_dir / record.get("dir", slug(entry)) / "results.json"
        sites.append(json.loads(path.read_text(encoding="utf-8"))["sites"][0])
    results = results_document(run_id=run_id, started_at=state.data["started_at"], finished_at=_now(),
                               today=fleet.today.isoformat(), version=__version__, sites=sites,
                               extra_run={"config": str(fleet.config)})
    for site, entry in zip(sites, entries, strict=True):
        site.setdefault("report", f"{state.site(entry.key).get('dir', slug(entry))}/report.html")
    store.finish_run(run_id, "done", results)
    _write_fleet_outputs(results, fleet)
    state.data["finished"] = True
    state.save()
    print(f"完成 / done: {total} sites, {counters['errors']} failed → {fleet.out_dir / 'results.json'}", file=out)
    return results


def _write_fleet_outputs(results: dict[str, Any], fleet: FleetOptions) -> None:
    # deferred: jinja2 and the templates (~0.1 s) only when reports are written
    from reports.render import render_overview

    write_results_json(results, fleet.out_dir)
    render_overview(results, fleet.out_dir, lang=fleet.lang)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _now() -> str:
    return iso_utc()
