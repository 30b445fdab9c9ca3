"""cli/gc_pause.py: the collector is paused for exactly the heavy imports, then frozen and on
again; other imports and library users' interpreters are left as they were."""

from __future__ import annotations

import gc
import subprocess
import sys

from gradcli.cli.gc_pause import GcPause, install


def _module(tmp_path, name: str) -> None:
    (tmp_path / f"{name}.py").write_text("import gc\nENABLED_WHILE_IMPORTING = gc.isenabled()\n")


def test_a_heavy_import_runs_with_the_collector_paused_and_leaves_it_on(tmp_path, monkeypatch):
    _module(tmp_path, "heavy_lib_for_test")
    _module(tmp_path, "light_lib_for_test")
    monkeypatch.syspath_prepend(str(tmp_path))
    finder = GcPause(frozenset({"heavy_lib_for_test"}))
    monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    frozen_before = gc.get_freeze_count()
    try:
        import heavy_lib_for_test
        import light_lib_for_test
    finally:
        gc.unfreeze()
    assert heavy_lib_for_test.ENABLED_WHILE_IMPORTING is False
    assert light_lib_for_test.ENABLED_WHILE_IMPORTING is True
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen_before


def test_a_collector_the_caller_turned_off_stays_off(tmp_path, monkeypatch):
    _module(tmp_path, "heavy_lib_for_test_off")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", [GcPause(frozenset({"heavy_lib_for_test_off"})), *sys.meta_path])
    gc.disable()
    try:
        import heavy_lib_for_test_off  # noqa: F401
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_install_adds_one_finder_however_often_it_is_called():
    meta_path: list = []
    install(meta_path)
    install(meta_path)
    assert len(meta_path) == 1 and isinstance(meta_path[0], GcPause)


def test_the_installed_command_imports_torch_with_the_collector_paused():
    # the real modules, through the real entry point's finder
    code = ("import sys; from gradcli.cli.gc_pause import install; install(sys.meta_path); "
            "import gc; import torch, sympy; print(gc.isenabled(), gc.get_freeze_count() > 100000, "
            "torch.tensor([1.0]).sum().item(), sympy.diff(sympy.Symbol('x')**2))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "1.0", "2*x"]
