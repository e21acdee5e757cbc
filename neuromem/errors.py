"""One exception hierarchy for neuromem.

Every message says what was wrong, where (object and field), the bad value,
and what is allowed, e.g.::

    Projection 'cue_to_content': delay 0.5 ms is below one time step (1.0 ms)
"""

from __future__ import annotations


class NeuromemError(Exception):
    """Base class of every error raised on purpose by neuromem."""


class ValidationError(NeuromemError, ValueError):
    """A description, parameter or input is invalid; nothing was changed."""


class CapabilityError(NeuromemError):
    """A backend or export target cannot express a feature of the network.

    The message names the feature and the target.
    """


class BackendError(NeuromemError):
    """A backend or device was asked for that is unknown or unavailable."""


class FileFormatError(NeuromemError):
    """A file is missing, corrupt, of an unknown type or of a newer schema."""


class ExportError(NeuromemError):
    """An export target failed or is not installed."""
