"""MLflow names for Neptune field paths, and MLflow's length limits.

MLflow keeps a metric, param or tag name only if it holds nothing but ASCII letters, digits, ``_ - . space : /`` and
reads the same as a normalised path (no empty, ``.`` or ``..`` segment). Ultralytics names hold parentheses
(``metrics/mAP50(B)``), so every name goes through one rule, percent-encoding with ``:`` for ``%``:

- a character outside that set, and ``:`` itself, becomes ``:`` and two lower-case hex digits per UTF-8 byte
  (``(`` is ``:28``, ``)`` is ``:29``, ``:`` is ``:3a``);
- a ``/`` that would leave an empty segment (first, last, or next to another ``/``) becomes ``:2f``, and the dots of
  a segment made only of dots become ``:2e``.

Every ``:`` of a result starts an escape, so replacing each escape by its byte gives the path back: no two paths get
one name. A name longer than MLflow's 250 characters keeps its first 230 and ends with ``::`` and 16 hex digits of
the path's sha256 (``::`` never comes out of the rule above, so such a name never equals a short one).
"""

from __future__ import annotations

import hashlib
import string

KEPT = frozenset(string.ascii_letters + string.digits + "_-. /")
ESCAPE = ":"
MAX_NAME = 250  # MLflow's limit on a metric, param or tag name
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
DIGEST_DIGITS = 16


def _escaped(text: str) -> str:
    return "".join(f"{ESCAPE}{byte:02x}" for byte in text.encode("utf-8"))


def _segment(segment: str) -> str:
    if segment and set(segment) == {"."}:
        return _escaped(segment)
    return "".join(
        character if character in KEPT and character != "/" else _escaped(character) for character in segment
    )


def mlflow_name(path: str) -> str:
    """The MLflow name of a Neptune field path (or any text), by the rule of this module's docstring.

    Args:
        path (str): A Neptune field path such as ``metrics/mAP50(B)``.

    Returns:
        (str): A name MLflow accepts, such as ``metrics/mAP50:28B:29``.

    Examples:
        >>> mlflow_name("metrics/mAP50-95(B)")
        'metrics/mAP50-95:28B:29'
    """
    segments = path.split("/")
    name = ""
    for index, segment in enumerate(segments):
        if index:
            separates = bool(segments[index - 1]) and bool(segment)
            name += "/" if separates else _escaped("/")
        name += _segment(segment)
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(path.encode("utf-8")).hexdigest()[:DIGEST_DIGITS]
    return f"{name[: MAX_NAME - DIGEST_DIGITS - 2]}{ESCAPE * 2}{digest}"


def artifact_path(path: str) -> str:
    """A field path as a relative artifact path that stays inside the run's artifacts: empty segments dropped, the
    dots of a segment made only of dots escaped as in names (``..`` is ``:2e:2e``)."""
    return "/".join(_segment(segment) if set(segment) == {"."} else segment for segment in path.split("/") if segment)


def clipped(value: str, limit: int) -> str:
    """value cut to limit characters (MLflow refuses longer param and tag values)."""
    return value if len(value) <= limit else value[:limit]
