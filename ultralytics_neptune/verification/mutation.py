"""Mutations of the contributed module's code, as the package runs it: a test that must fail on a broken module
breaks the real file's text, so what fails is the code Ultralytics would receive."""

from __future__ import annotations

from ultralytics_neptune import composed


def change_module_source(monkeypatch, old: str, new: str, count: int = 1) -> None:
    """Make every registration from now on (until the test ends) run the contributed module with old replaced by
    new, count times; old must occur in the file at least that often."""
    path = composed.module_path()
    source = path.read_text(encoding="utf-8")
    if source.count(old) < count:
        raise ValueError(f"{old!r} occurs {source.count(old)} times in {path}, fewer than {count}")
    code = compile(source.replace(old, new, count), str(path), "exec")
    monkeypatch.setattr(composed, "_module_code", lambda: code)
