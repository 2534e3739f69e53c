import subprocess
import sys

import workbench
from workbench.cli import main


def test_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert workbench.__version__ in capsys.readouterr().out


def test_help_lists_main_job(capsys):
    try:
        main(["--help"])
    except SystemExit as exc:
        assert exc.code == 0
    out = capsys.readouterr().out
    assert "reproduce" in out and "WORKBENCH_MIRROR" in out


def test_console_entry_point_runs(tmp_path):
    # Outside the checkout, so that `-m` imports the installed package (with its compiled
    # kernels), not the source folder.
    proc = subprocess.run([sys.executable, "-m", "workbench", "--version"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0 and "workbench" in proc.stdout


def test_reproduce_cache_key_follows_the_whole_package(tmp_path, monkeypatch):
    # A kernel fix must invalidate results cached by older code even at the same version.
    import types

    import workbench
    from workbench.cli._reproduce import code_version

    package, pipelines = tmp_path / "workbench", tmp_path / "analyses"
    (package / "_kernels").mkdir(parents=True)
    pipelines.mkdir()
    (package / "__init__.py").write_text("")
    (package / "_kernels" / "conv.so").write_bytes(b"\x00kernel v1")
    (pipelines / "_common.py").write_text("# shared\n")
    (pipelines / "pipe.py").write_text("# a pipeline\n")
    monkeypatch.setattr(workbench, "__file__", str(package / "__init__.py"))
    module = types.SimpleNamespace(__file__=str(pipelines / "pipe.py"))
    first = code_version(module)
    assert code_version(module) == first  # deterministic
    (package / "_kernels" / "conv.so").write_bytes(b"\x00kernel v2")
    second = code_version(module)
    assert second != first
    (pipelines / "pipe.py").write_text("# a pipeline, changed\n")
    third = code_version(module)
    assert third not in (first, second)
    (package / "notes.txt").write_text("not code")  # only code counts
    assert code_version(module) == third
