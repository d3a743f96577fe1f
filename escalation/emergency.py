"""A country's emergency numbers, from Google's libphonenumber data (the phonenumbers package)."""

import re

from phonenumbers import PhoneMetadata

_PLAIN = re.compile(r"\d+(?:\|\d+)*")  # "112|999": the numbers themselves, not a pattern of them


def emergency_numbers(country_code: str) -> list[str]:
    """The numbers to dial, as the data lists them ("112", "999"); empty when it does not know."""
    metadata = PhoneMetadata.short_metadata_for_region(country_code.upper()) if country_code else None
    if metadata is None or metadata.emergency is None:
        return []
    pattern = metadata.emergency.national_number_pattern or ""
    if _PLAIN.fullmatch(pattern):
        return pattern.split("|")
    return [metadata.emergency.example_number] if metadata.emergency.example_number else []
