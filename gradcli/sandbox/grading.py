"""Grading a folder of submissions: the verdicts, the folder's layout, and the pool that runs
them (shared by every problem kind that grades student code; the kind judges one submission).

Each `*.py` in DIR is one submission, and so is the single `.py` of each subfolder (a
subfolder with none or several is an `error`). Submissions run in the sandbox, in children
forked from `jobs` preloaded fork servers (torch is imported once per server, not once per
submission). Grading other people's code needs the whole sandbox: when the kernel lacks
landlock or seccomp it refuses to start unless the caller accepts a weaker sandbox.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradcli.errors import InputError
from gradcli.results import Outcome

VERDICTS = ("pass", "fail", "error", "timeout", "refused")
MAX_SUBMISSIONS = 10_000
MAX_JOBS = 64


@dataclass(frozen=True)
class Mark:
    """A kind's judgement of one submission; the pool adds the name, the time and the escaping,
    and turns an InputError (a file that does not load, a job that cannot run) into `error`."""

    verdict: str  # one of VERDICTS
    score: float = 0.0
    first_wrong: str = ""
    message: str = ""


@dataclass(frozen=True)
class Submission:
    submission: str  # the file's path relative to DIR (or the subfolder's name)
    verdict: str  # one of VERDICTS
    score: float
    first_wrong: str  # the first failing case, or "line N" of a refused/forbidden use
    message: str  # one line, child text escaped
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {"submission": self.submission, "verdict": self.verdict, "score": self.score,
                "first_wrong": self.first_wrong or None, "message": self.message,
                "seconds": self.seconds}


@dataclass(frozen=True)
class GradeResult(Outcome):
    folder: str = ""
    submissions: tuple[Submission, ...] = ()
    sandbox: str = ""  # isolation report, e.g. "landlock: active (ABI 7); seccomp: active"
    jobs: int = 1
    seconds: float = 0.0

    @property
    def passed(self) -> bool:  # grading ran: exit 0 whatever the students scored
        return True

    def counts(self) -> dict[str, int]:
        return {v: sum(s.verdict == v for s in self.submissions) for v in VERDICTS}


def submissions(folder: Path) -> list[tuple[str, Path | None, str]]:
    """(name, file or None, why not) for each submission in `folder`, sorted by name."""
    if not folder.is_dir():
        raise InputError(f"not a folder: {folder}", hint="gradcli grade PROBLEM DIR")
    found: list[tuple[str, Path | None, str]] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix == ".py":
            found.append((entry.name, entry, ""))
        elif entry.is_dir():
            files = sorted(p for p in entry.iterdir() if p.is_file() and p.suffix == ".py")
            if len(files) == 1:
                found.append((f"{entry.name}/{files[0].name}", files[0], ""))
            else:
                found.append((entry.name + "/", None, f"the folder has {len(files)} .py files; "
                                                      "a submission folder needs exactly one"))
    if not found:
        raise InputError(f"no submissions in {folder}",
                         hint="each *.py file, or the single .py of each subfolder, is one")
    if len(found) > MAX_SUBMISSIONS:
        raise InputError(f"{len(found)} submissions; at most {MAX_SUBMISSIONS} per run")
    return found


def run(problem, folder: Path, judge_one: Callable[..., Mark], *, name: str, jobs: int = 1,
        seed: int = 0, allow_weaker: bool = False, progress=None) -> GradeResult:
    """Grade every submission in `folder` with `judge_one(name, path, server) -> Mark`, where
    `server()` gives this thread's fork server. `progress(done, total)` as they finish."""
    from gradcli.sandbox import isolation, process
    from gradcli.sandbox.framing import text

    protections = isolation.probe()
    if not protections.complete and not allow_weaker:
        missing = "; ".join(f"{name} ({why})" for name, why in protections.missing)
        raise InputError(f"the sandbox is incomplete here, missing: {missing}",
                         hint="grading runs other people's code; --allow-weaker-sandbox "
                              "grades anyway with what is available")
    items = submissions(folder)
    jobs = max(1, min(jobs, MAX_JOBS, len(items)))
    started = time.monotonic()
    local = threading.local()
    servers: list = []
    lock = threading.Lock()
    done = [0]

    def server():
        if getattr(local, "server", None) is None:
            local.server = process.Server()
            with lock:
                servers.append(local.server)
        return local.server

    def one(item) -> Submission:
        submission, path, why = item
        started = time.monotonic()
        try:
            mark = Mark("error", message=why) if path is None else judge_one(submission, path, server)
        except InputError as err:
            mark = Mark("error", message=err.one_line())
        result = Submission(submission, mark.verdict, round(mark.score, 4), mark.first_wrong,
                            text(mark.message, 300), round(time.monotonic() - started, 3))
        with lock:
            done[0] += 1
            if progress is not None:
                progress(done[0], len(items))
        return result

    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            graded = list(pool.map(one, items))
    finally:
        for s in servers:
            s.close()
    return GradeResult(kind="grade", name=name, seed=seed,
                       source=problem.source, folder=str(folder), submissions=tuple(graded),
                       sandbox=protections.report(), jobs=jobs,
                       seconds=round(time.monotonic() - started, 3))
