"""pytest plugin of this suite: skips that cannot happen silently.

Every skip, xfail and deselection of the session must match a line of the allow-list ``allowed_skips`` (setup.cfg
[tool:pytest]), "ENVIRONMENTS | REASON PATTERN", which names the tox environments that do run the test; any other
fails the run, and the summary lists it. A deselected test's reason is "deselected NODE-ID".
"""

from __future__ import annotations

from fnmatch import fnmatchcase

import pytest

ALLOWED_SKIPS_INI = "allowed_skips"


def pytest_addoption(parser):
    parser.addini(
        ALLOWED_SKIPS_INI,
        type="linelist",
        default=[],
        help="skips allowed: 'ENVIRONMENTS | REASON PATTERN' (fnmatch); any other skip, xfail or deselection fails",
    )


def parse_allowed_skips(lines: list) -> list:
    """The allow-list as (environments, reason pattern) pairs; a line without both is refused."""
    allowed = []
    for line in lines:
        environments, separator, pattern = line.partition("|")
        if not separator or not environments.strip() or not pattern.strip():
            raise pytest.UsageError(f"{ALLOWED_SKIPS_INI}: '{line}' is not 'ENVIRONMENTS | REASON PATTERN'")
        allowed.append((environments.strip(), pattern.strip()))
    return allowed


def unallowed_skips(skips: list, allowed: list) -> list:
    """The (node id, reason) pairs of skips whose reason matches no pattern of the allow-list."""
    return [(node, reason) for node, reason in skips if not any(fnmatchcase(reason, p) for _, p in allowed)]


class SkipAllowList:
    """Collects the session's skips, xfails and deselections, and fails the session on those not allowed."""

    def __init__(self, allowed: list):
        self.allowed = allowed
        self.skips: list = []

    def pytest_collectreport(self, report):
        if report.skipped:
            self.skips.append((report.nodeid, skip_reason(report)))

    def pytest_runtest_logreport(self, report):
        if hasattr(report, "wasxfail") and (report.skipped or report.when == "call"):  # xfailed, or xpassed
            self.skips.append((report.nodeid, f"xfail: {report.wasxfail}"))
        elif report.skipped:  # in setup (a mark, a fixture) or in the test itself
            self.skips.append((report.nodeid, skip_reason(report)))

    def pytest_deselected(self, items):
        self.skips.extend((item.nodeid, f"deselected {item.nodeid}") for item in items)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session):
        refused = unallowed_skips(self.skips, self.allowed)
        if not refused:
            return
        lines = "\n".join(f"  {node}: {reason}" for node, reason in refused)
        self.refused = lines
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter):
        if getattr(self, "refused", None):
            terminalreporter.section("skips not on the allow-list (setup.cfg [tool:pytest] allowed_skips)", red=True)
            terminalreporter.write_line(self.refused)


def skip_reason(report) -> str:
    """The reason a skip report gives (pytest keeps it as (file, line, "Skipped: reason"))."""
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_configure(config):
    if config.getoption("collectonly", False):
        return
    allowed = parse_allowed_skips(config.getini(ALLOWED_SKIPS_INI))
    config.pluginmanager.register(SkipAllowList(allowed), "ultralytics-neptune-skip-allow-list")
