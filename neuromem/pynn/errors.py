"""Errors of the PyNN front-end: PyNN's own exception types that are also neuromem errors.

A PyNN script catches what PyNN raises (``NotImplementedError`` for what a
simulator cannot do, ``pyNN.errors.InvalidParameterValueError``,
``pyNN.errors.ConnectionError``, ``pyNN.errors.RecordingError``); code written
against neuromem catches :class:`neuromem.errors.NeuromemError`. Every error
raised on purpose here is both.
"""

from __future__ import annotations

from pyNN import errors as pynn_errors

from neuromem.errors import CapabilityError, ValidationError


class NotSupported(CapabilityError, NotImplementedError):
    """A PyNN feature the neuromem engine cannot run; the message names the feature and what is allowed."""


class InvalidParameterValue(ValidationError, pynn_errors.InvalidParameterValueError):
    """A parameter value the engine cannot accept (names object, parameter, value and the rule)."""


class ConnectionRefused(ValidationError, pynn_errors.ConnectionError):
    """A connection parameter (weight sign, delay) the engine cannot accept."""


__all__ = ["ConnectionRefused", "InvalidParameterValue", "NotSupported"]
