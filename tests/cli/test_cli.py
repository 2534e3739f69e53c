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
