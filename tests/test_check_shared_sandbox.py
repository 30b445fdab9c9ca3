"""`check` of several implementation problems runs their solutions in children of one sandbox
fork server (torch imported once); the verdicts and the reported isolation are those of a
fresh runner per problem."""

from __future__ import annotations

import json

import pytest

from gradcli.sandbox import isolation, process

pytestmark = pytest.mark.skipif(not isolation.probe().complete,
                                reason=f"a protection is missing here: {isolation.probe().report()}")

WRONG = """format: 1
kind: implementation
name: reverses the rows' order
function: reverse_rows
inputs: {X: [3, 4]}
reference: builtin:reverse_rows
solution: flip.py
"""


def test_several_implementation_problems_share_one_server_and_keep_their_verdicts(cli, tmp_path,
                                                                                monkeypatch):
    (tmp_path / "wrong.yaml").write_text(WRONG)
    (tmp_path / "flip.py").write_text("def reverse_rows(X):\n    return X.flip(0)\n")
    wrong = str(tmp_path / "wrong.yaml")
    alone = [json.loads(cli("check", name, "--run-solutions", "-f", "json").output)
             for name in (wrong, "q1", "q2")]
    servers = []
    server = process.Server

    def counted(*args, **kwargs):
        servers.append(server(*args, **kwargs))
        return servers[-1]

    monkeypatch.setattr(process, "Server", counted)
    together = cli("check", wrong, "q1", "q2", "--run-solutions", "-f", "json")
    assert together.exit_code == 1, together.output  # flip.py is wrong, q1 and q2 pass
    assert json.loads(together.output)["results"] == alone
    assert [r["sandbox"]["complete"] for r in alone] == [True, True, True]
    assert len(servers) == 1 and servers[0].proc.returncode is not None


def test_a_check_without_implementation_problems_starts_no_sandbox(cli, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a sandbox server was started")

    monkeypatch.setattr(process, "Server", refuse)
    r = cli("check", "q3", "q5", "-f", "plain")
    assert r.exit_code == 0, r.output
