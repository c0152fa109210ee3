"""The committed rebuild scripts still name commands and options that exist.

`docs/evaluation/real-bus/rebuild.sh` and `resources/models/make_dlrs_demo.sh` are how a reader rebuilds
the shipped bundles (issue 25: "the commands in the data card rebuild the shipped bundle"). They take
hours and public data, so CI cannot run them; a renamed option or benchmark would only show when
someone did (it happened: a benchmark's import). Here each script runs under bash with `dlrs` and
`python` replaced by shell functions that only record their arguments, and every recorded `dlrs`
command is then parsed by the real CLI parser, every benchmark call checked against the options its
script defines.
"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from dlrs_desktop.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ("docs/evaluation/real-bus/rebuild.sh", "resources/models/make_dlrs_demo.sh")

#: shell functions replacing what the scripts run: each call is one NUL-separated record in $CALLS
STUBS = r"""
record() { printf '%s\0' "$@" >> "$CALLS"; printf '\n\0' >> "$CALLS"; }
dlrs() { record dlrs "$@"; }
python() { if [ "$1" = - ]; then cat > /dev/null; else record python "$@"; fi; }
cp() { :; }
"""


def recorded_calls(script: Path, tmp_path: Path) -> list[list[str]]:
    """Every `dlrs` / `python` call the script makes, with its arguments, in order."""
    calls = tmp_path / "calls"
    calls.touch()
    env = {"PATH": "/usr/bin:/bin", "CALLS": str(calls), "HOME": str(tmp_path), "DLRS_RELEASE_KEY": "KEY"}
    body = STUBS + script.read_text(encoding="utf-8")
    done = subprocess.run(
        ["bash", "-c", body, str(script), "DATA", str(tmp_path / "work")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    fields = calls.read_text(encoding="utf-8").split("\0")
    out, current = [], []
    for f in fields:
        if f == "\n":
            out.append(current)
            current = []
        elif f:
            current.append(f)
    return out


def script_options(path: Path) -> set[str]:
    """The `--options` a benchmark's argparse defines (read from its source, not run)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument":
            found |= {
                a.value for a in node.args if isinstance(a, ast.Constant) and str(a.value).startswith("--")
            }
    return found


def problems(calls: list[list[str]]) -> list[str]:
    """What would stop a rebuild: a `dlrs` command the CLI refuses, a missing benchmark or option."""
    parser = build_parser()
    found = []
    for call in calls:
        if call[0] == "dlrs":
            try:
                parser.parse_args(call[1:])
            except SystemExit:
                found.append("refused by the CLI: " + " ".join(call[1:4]))
            continue
        script = ROOT / call[1]
        if not script.is_file():
            found.append(f"no such script: {call[1]}")
            continue
        known = script_options(script)
        found += [
            f"{call[1]}: no option {a}"
            for a in call[2:]
            if a.startswith("--") and a.split("=")[0] not in known
        ]
    return found


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_command_of_a_rebuild_script_exists(name, tmp_path, capsys):
    calls = recorded_calls(ROOT / name, tmp_path)
    assert sum(c[0] == "dlrs" for c in calls) >= 5
    assert problems(calls) == []
    capsys.readouterr()  # argparse's usage lines of a refused command


def test_a_renamed_option_or_benchmark_is_found(tmp_path, capsys):
    script = tmp_path / "rebuild.sh"
    script.write_text(
        "dlrs train --cohort c.csv --out m --no-such-flag\n"
        "python benchmarks/robustness_real.py --model m --no-such-option 1\n"
        "python benchmarks/no_such_benchmark.py\n"
        'python - a <<"PY"\nprint(1)\nPY\n'
    )
    found = problems(recorded_calls(script, tmp_path))
    capsys.readouterr()
    assert found == [
        "refused by the CLI: train --cohort c.csv",
        "benchmarks/robustness_real.py: no option --no-such-option",
        "no such script: benchmarks/no_such_benchmark.py",
    ]
