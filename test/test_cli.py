"""The command line: the `slm-acl` console script and `python run_lab.py` are one `slm_acl.cli.main`."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT

import run_lab
from slm_acl import cli

CONSOLE_SCRIPT = Path(sys.executable).with_name("slm-acl")


def test_the_console_script_and_run_lab_give_the_same_help():
    assert CONSOLE_SCRIPT.exists(), f"{CONSOLE_SCRIPT} is missing: `pip install -e .` installs setup.py's console script"
    script = subprocess.run([str(CONSOLE_SCRIPT), "--help"], capture_output=True, text=True, timeout=120)
    assert script.returncode == 0, script.stderr
    assert script.stdout.startswith("usage: slm-acl ") and "enjoy@SESSION" in script.stdout
    shim = subprocess.run([sys.executable, str(ROOT / "run_lab.py"), "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert shim.returncode == 0, shim.stderr
    assert shim.stdout.startswith("usage: run_lab.py ")
    after_usage = [out.split("\n\n", 1)[1] for out in (shim.stdout, script.stdout)]  # usage wraps by name length
    assert after_usage[0] == after_usage[1]  # the same description and options


def test_run_lab_is_the_package_main():
    assert run_lab.main is cli.main


def test_a_bad_command_line_is_an_error_that_says_what_to_give(capsys, tmp_path):
    assert cli.main([str(tmp_path / "none.json"), "t", "train"]) == cli.EXIT_SPEC_ERROR
    assert "does not exist" in capsys.readouterr().err
