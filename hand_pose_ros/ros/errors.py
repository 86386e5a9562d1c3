"""The one exception type raised when a ROS message cannot be turned into arrays (or back)."""

from __future__ import annotations


class MessageConversionError(ValueError):
    """A message (or array) does not match what the conversion expects.

    The text says what is wrong and what was expected, so a node can log it as is: nodes receive
    messages from arbitrary publishers and must report a bad one without crashing.
    """
