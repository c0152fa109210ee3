"""Guards on the tests themselves: what CI requires cannot silently skip."""

from __future__ import annotations

import pytest

from tests.pacs_factory import REQUIRE_TOOLS, need


def test_a_missing_tool_skips_locally_and_fails_where_ci_requires_it(monkeypatch):
    monkeypatch.delenv(REQUIRE_TOOLS, raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y no-such-package"):
        need("no-such-tool-dlrs", "no-such-package")
    monkeypatch.setenv(REQUIRE_TOOLS, "1")
    with pytest.raises(pytest.fail.Exception, match="requires it"):
        need("no-such-tool-dlrs", "no-such-package")
    assert need("sh", "dash")  # a present tool is found either way


def test_ci_sets_the_flag_before_running_the_tests():
    from pathlib import Path

    script = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert script.index(f"export {REQUIRE_TOOLS}=1") < script.index("pytest")
