"""The project's promises: the two README commands, CI running the same test command, the CLI."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    quickstart = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", quickstart)


def test_readme_has_exactly_two_quickstart_commands():
    commands = readme_commands()
    assert len(commands) == 2
    assert "glassbox serve" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == readme_commands()[1]


def test_cli_help_lists_serve():
    out = subprocess.run([sys.executable, "-m", "app", "serve", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0
    assert "--host" in out.stdout and "--port" in out.stdout


def test_production_app_serves_no_test_pages(client) -> None:
    """The in-browser unit tests live in tests/js and are mounted only when the test suite asks for them."""
    assert client.get("/static/test/unit.html").status_code == 404
    assert client.get("/test-assets/unit.html").status_code == 404
    assert client.get("/static/js/lib/api.js").status_code == 200


def test_app_never_selects_its_elements_by_test_hook() -> None:
    """data-testid is for tests: the pages' scripts and styles find their elements by id, class or role."""
    selector = re.compile(r"""\[data-testid|getAttribute\(["']data-testid|dataset\.testid\b(?!\s*=)""")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sorted((ROOT / "static").rglob("*"))
        if path.suffix in {".js", ".css"}
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if selector.search(line)
    ]
    assert offenders == []


def test_ruff_is_clean_with_the_complexity_rule() -> None:
    """Lint and import order over the whole tree, with ruff's complexity rule (C901) on: long functions get split."""
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "engine", "app", "tests", "bench", "scripts"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_type_checker_reports_no_errors() -> None:
    """mypy over engine/ and app/ (settings in pyproject.toml, with the pydantic plugin): zero errors."""
    out = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
