"""Run one command bounded in time and measure it: wall time, CPU time, peak RSS of its whole process tree.

Why the whole tree: our crawler runs in a forked child, linkinator may spawn workers; a peer's memory
must be counted the same way as ours. RSS and PSS are summed over the tree every 0.1 s from /proc (Linux), so
the figures are peaks of the sum, not of the largest single process. CPU time comes from wait4(), which
includes every descendant that was waited for.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class Measurement:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float  # peak of the RSS summed over the process tree
    peak_pss_mb: float  # peak of the PSS summed over the process tree (shared pages counted once)
    returncode: int | None
    timed_out: bool
    stdout_path: Path
    stderr_path: Path

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: the fields after the last ')' are fixed
        fields = stat[stat.rfind(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def _pss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
        for line in fh:
            if line.startswith(b"Pss:"):
                return int(line.split()[1])
    return 0


def tree_memory_kb(root: int) -> tuple[int, int]:
    """(RSS, PSS) of `root` and all its descendants, in KiB.

    RSS summed over a forked tree counts copy-on-write pages once per process; PSS shares them out,
    so the PSS sum is what the tree really costs the machine. Both are reported."""
    children = _children_map()
    rss = pss = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                rss += int(fh.read().split()[1]) * PAGE_KB
            pss += _pss_kb(pid)
        except (OSError, IndexError, ValueError):
            pass
        stack.extend(children.get(pid, ()))
    return rss, pss


def run_measured(cmd: list[str], *, timeout: float, out_dir: Path, name: str, cwd: Path | None = None,
                 env: dict[str, str] | None = None, interval: float = 0.1) -> Measurement:
    """Run `cmd` in its own session; kill the whole group when `timeout` seconds have passed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = out_dir / f"{name}.stdout", out_dir / f"{name}.stderr"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd, env=env,
                                start_new_session=True)
        peak = peak_pss = 0
        timed_out, status, usage = False, None, None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            rss, pss = tree_memory_kb(proc.pid)
            peak, peak_pss = max(peak, rss), max(peak_pss, pss)
            if time.monotonic() - t0 > timeout:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(interval)
        wall = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        # anything the tool left behind in its group (it should be none) does not outlive the run
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    cpu = usage.ru_utime + usage.ru_stime if usage else 0.0
    return Measurement(wall_s=wall, cpu_s=cpu, peak_rss_mb=peak / 1024,
                       peak_pss_mb=peak_pss / 1024, returncode=proc.returncode,
                       timed_out=timed_out, stdout_path=stdout_path, stderr_path=stderr_path)
