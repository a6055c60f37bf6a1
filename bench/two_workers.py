"""One distributed run (two worker processes over a Redis frontier) of the 10,000-page bench site.

Needs the generated site in /tmp/da-bench/site-10000 (bench/generate_site.py), nginx, and a
redis-server on 127.0.0.1:6391:  redis-server --port 6391 --save '' --daemonize yes
"""
import json
import shutil
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.serve import serve  # noqa: E402
from disclosure_audit.options import AuditOptions  # noqa: E402
from disclosure_audit.pipeline import audit_site

out = Path("/tmp/da-bench/two-workers")
shutil.rmtree(out, ignore_errors=True)
manifest = json.load(open("/tmp/da-bench/site-10000/manifest.json"))
with serve(Path("/tmp/da-bench/site-10000")) as s:
    t = time.monotonic()
    res = audit_site(AuditOptions(url=s.url, out_dir=out, today=date(2025, 6, 30), accessibility=False,
                                  max_pages=30000, max_depth=50, per_host_concurrency=16, workers=2,
                                  redis_url="redis://127.0.0.1:6391/3", settings={"AUTOTHROTTLE_ENABLED": False}))
    wall = time.monotonic() - t
site = res["sites"][0]
base = s.url.rstrip("/")
found = {(f["page"].replace(base, ""), f["target"].replace(base, "")) for f in site["findings"] if f["rule"] == "broken-link"}
expected = {(b["source"], b["target"]) for b in manifest["broken"]}
print(json.dumps({"wall_s": round(wall, 1), "crawl_s": site["stats"]["duration_s"], "pages": site["stats"]["pages"],
                  "urls_per_s": round(site["stats"]["links_checked"] / wall, 1),
                  "crawl_urls_per_s": round(site["stats"]["links_checked"] / site["stats"]["duration_s"], 1),
                  "broken_exact": found == expected, "found": len(found), "expected": len(expected)}))
