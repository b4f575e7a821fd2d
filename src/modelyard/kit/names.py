"""Names people give things (projects, labels, registered models, aliases, tag keys, metric names, file names):
NFC-normalised, so `é` typed two ways is one name, and free of what makes two names look alike or breaks
a terminal: control and format characters (Unicode Cc and Cf: NUL, escapes, zero-width spaces, direction
marks) and leading or trailing spaces."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints, ValidationInfo

from modelyard.kit.bounds import storable_text
from modelyard.kit.limits import current_limits, over_limit

REFUSED_CATEGORIES = ("Cc", "Cf")


def check_name(value: str, info: ValidationInfo) -> str:
    """A pydantic validator: `clean_name` naming the field."""
    return clean_name(value, info.field_name or "name")


def clean_name(value: str, what: str = "name") -> str:
    """The name in NFC, or ValueError saying what is wrong with it."""
    storable_text(value)  # NUL and lone surrogates, with their own message
    value = unicodedata.normalize("NFC", value)
    for character in value:
        if unicodedata.category(character) in REFUSED_CATEGORIES:
            raise ValueError(
                f"{what} holds the invisible or control character U+{ord(character):04X} "
                f"({unicodedata.name(character, 'unnamed')}): remove it"
            )
    if value != value.strip():
        raise ValueError(f"{what} {value!r} starts or ends with a space: remove it")
    if len(value) > current_limits().max_name_length:
        raise ValueError(over_limit(what, len(value), "characters", "max_name_length"))
    return value


Name = Annotated[str, StringConstraints(min_length=1), AfterValidator(check_name)]
"""A name or key from a request, checked as the module says."""
