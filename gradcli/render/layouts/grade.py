"""Layout of `gradcli grade`: one row per submission, counts, and the sandbox in force."""

from __future__ import annotations

from gradcli.render.blocks import Block, Heading, Table, Text

_TONE = {"pass": "good", "refused": "warn"}


def document(result) -> list[Block]:
    blocks: list[Block] = [Heading(f"Grading {result.folder}: {result.name}")]
    rows = tuple((s.submission, s.verdict, f"{s.score:.2f}", s.first_wrong, s.message,
                  f"{s.seconds:.2f}") for s in result.submissions)
    tones = tuple(_TONE.get(s.verdict, "bad") for s in result.submissions)
    blocks.append(Table(("submission", "verdict", "score", "first wrong", "message", "seconds"),
                        rows, tones=tones))
    blocks.append(Text(f"sandbox: {result.sandbox}", "note"))
    blocks.append(Text(f"seed: {result.seed}; {result.jobs} parallel job(s); "
                       f"{result.seconds:.1f} s in all", "note"))
    counts = ", ".join(f"{n} {v}" for v, n in result.counts().items() if n)
    blocks.append(Text(f"PASSED: graded {len(result.submissions)} submissions ({counts})", "good"))
    return blocks


def payload(result) -> dict:
    out = result.header_json()
    out.update({"folder": result.folder, "sandbox": result.sandbox, "jobs": result.jobs,
                "seconds": result.seconds, "counts": result.counts(),
                "submissions": [s.to_json() for s in result.submissions]})
    return out
