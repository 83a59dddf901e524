"""Phone numbers: E.164 normalisation (with ``phonenumbers``) and masking for logs."""

from __future__ import annotations

import hashlib
import re

import phonenumbers


class InvalidPhoneNumber(ValueError):
    """A phone number that cannot be read as a valid E.164 number; the message says why."""


_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    phonenumbers.ValidationResult.TOO_SHORT: "too short",
    phonenumbers.ValidationResult.TOO_LONG: "too long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "wrong length for its country",
    # Dialable only from inside its area: no E.164 form reaches it (a missing area code).
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "too short: missing its area code",
}
# Runs of digits long enough to be (part of) a phone number, with optional + and separators.
_NUMBER_LIKE = re.compile(r"\+?\d(?:[\d \-.()]{4,}\d)")


def normalise(raw: str, default_region: str | None = None) -> str:
    """Return ``raw`` as E.164 (``+447700900123``) or raise :class:`InvalidPhoneNumber`.

    A number is accepted when it is possible for its country (length and country code).

    ``default_region`` (ISO 3166 alpha-2, e.g. ``GB``) reads numbers written without ``+``.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("empty phone number")
    if any(c.isalpha() for c in text):
        # phonenumbers reads letters as a keypad word or an extension ("...123x"): for a
        # staff member's number they are a typo, never part of it
        raise InvalidPhoneNumber(f"{raw!r}: a phone number has no letters")
    region = default_region.upper() if default_region else None
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            known = text.startswith("+") or region
            hint = "unknown country code" if known else "start it with + and the country code"
            raise InvalidPhoneNumber(f"{raw!r}: {hint}") from exc
        raise InvalidPhoneNumber(f"{raw!r}: not a phone number") from exc
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise InvalidPhoneNumber(f"{raw!r}: {_REASONS.get(reason, 'not a possible number')}")
    # Possible (right length for its country) is the bar, not is_valid_number: validity follows
    # phonenumbers' snapshot of allocated ranges, which lags the carriers and rejects the
    # reserved ranges (+44 7700 900xxx, +1 555 01xx) that tests and demos use.
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def country_of(number: str) -> str | None:
    """The ISO 3166-1 alpha-2 country of an E.164 number (None if it names none).

    A number in a range ``phonenumbers`` does not list (a test or drama range) still has a
    calling code: its main country (``+44 7700 900xxx`` is GB)."""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(
        parsed
    ) or phonenumbers.region_code_for_country_code(parsed.country_code or 0)
    return region if region and len(region) == 2 else None


def try_normalise(raw: str, default_region: str | None = None) -> str | None:
    """Like :func:`normalise`, but ``None`` for an invalid number."""
    try:
        return normalise(raw, default_region)
    except InvalidPhoneNumber:
        return None


def mask(number: str) -> str:
    """A number safe for logs: at most the first three characters and the last two.

    ``+447700900123`` -> ``+44********23``. Short strings show less (the tail only, then
    nothing), so at least six characters are always hidden.
    """
    if not number:
        return ""
    head = 3 if len(number) >= 11 else 0
    tail = 2 if len(number) >= 8 else 0
    return number[:head] + "*" * (len(number) - head - tail) + number[len(number) - tail :]


def shown(number: str, full_numbers: bool) -> str:
    """A number as output shows it: whole with ``--full-numbers``, else :func:`mask`."""
    return number if full_numbers else mask(number)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _mask_match(match: re.Match[str]) -> str:
    text = match.group()
    digits = re.sub(r"[^\d+]", "", text)
    if sum(c.isdigit() for c in digits) < 7 or _DATE.fullmatch(text):
        return text
    return mask(digits)


def redact(text: str) -> str:
    """``text`` with anything that looks like a phone number masked (for error messages)."""
    return _NUMBER_LIKE.sub(_mask_match, text)


def fingerprint(number: str) -> str:
    """A stable, non-reversible key for a number (for rate-limit records and log correlation)."""
    return hashlib.sha256(number.encode("utf-8")).hexdigest()[:20]
