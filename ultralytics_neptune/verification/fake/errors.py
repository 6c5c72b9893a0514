"""The errors and warnings of the fake client, named and classed as the real ``neptune`` 1.x client's."""

from __future__ import annotations

__all__ = [
    "InactiveRunException",
    "MetadataInconsistency",
    "NeptuneException",
    "NeptuneInvalidApiTokenException",
    "NeptuneMissingApiTokenException",
    "NeptuneMissingProjectNameException",
    "NeptuneUnsupportedType",
    "NeptuneUnsupportedValue",
    "NeptuneUserApiInputException",
    "TypeDoesNotSupportAttributeException",
]


class NeptuneException(Exception):
    """Base of the errors the real client raises."""


class MetadataInconsistency(NeptuneException):
    """A path is used as an attribute and as a namespace, or defined twice."""


class TypeDoesNotSupportAttributeException(NeptuneException, AttributeError):
    """A method called on a field of a type that does not have it (e.g. append on an Integer)."""


class NeptuneUserApiInputException(NeptuneException):
    """Arguments that do not fit together, e.g. a different number of steps than of values in ``extend``."""


class InactiveRunException(NeptuneException):
    """An operation on a run after ``stop()``."""


class NeptuneMissingApiTokenException(NeptuneException):
    """async/sync mode without an API token."""


class NeptuneInvalidApiTokenException(NeptuneException):
    """async/sync mode with a token the server does not know."""


class NeptuneMissingProjectNameException(NeptuneException):
    """async/sync mode without a project."""


class NeptuneUnsupportedType(Warning):
    """A value of a type Neptune does not store; it is dropped."""


class NeptuneUnsupportedValue(Warning):
    """A float NaN or infinity; it is dropped."""
