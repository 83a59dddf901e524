"""Phone numbers: E.164 normalisation (with ``phonenumbers``) and masking for logs."""

from __future__ import annotations

import hashlib

import phonenumbers


class InvalidPhoneNumber(ValueError):
    """A phone number that cannot be read as a valid E.164 number; the message says why."""


_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    phonenumbers.ValidationResult.TOO_SHORT: "too short",
    phonenumbers.ValidationResult.TOO_LONG: "too long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "wrong length for its country",
}


def normalise(raw: str, default_region: str | None = None) -> str:
    """Return ``raw`` as E.164 (``+447700900123``) or raise :class:`InvalidPhoneNumber`.

    A number is accepted when it is possible for its country (length and country code).

    ``default_region`` (ISO 3166 alpha-2, e.g. ``GB``) reads numbers written without ``+``.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("empty phone number")
    region = default_region.upper() if default_region else None
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            hint = "start it with + and the country code" if not region else "unknown country code"
            raise InvalidPhoneNumber(f"{raw!r}: {hint}") from exc
        raise InvalidPhoneNumber(f"{raw!r}: not a phone number") from exc
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    if reason not in (
        phonenumbers.ValidationResult.IS_POSSIBLE,
        phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    ):
        raise InvalidPhoneNumber(f"{raw!r}: {_REASONS.get(reason, 'not a possible number')}")
    # Possible (right length for its country) is the bar, not is_valid_number: validity follows
    # phonenumbers' snapshot of allocated ranges, which lags the carriers and rejects the
    # reserved ranges (+44 7700 900xxx, +1 555 01xx) that tests and demos use.
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def try_normalise(raw: str, default_region: str | None = None) -> str | None:
    """Like :func:`normalise`, but ``None`` for an invalid number."""
    try:
        return normalise(raw, default_region)
    except InvalidPhoneNumber:
        return None


def mask(number: str) -> str:
    """A number safe for logs: country prefix and last two digits only (``+44*******23``)."""
    if not number:
        return ""
    keep_head = 3 if number.startswith("+") else 0
    if len(number) <= keep_head + 2:
        return "*" * len(number)
    return number[:keep_head] + "*" * (len(number) - keep_head - 2) + number[-2:]


def fingerprint(number: str) -> str:
    """A stable, non-reversible key for a number (for rate-limit records and log correlation)."""
    return hashlib.sha256(number.encode("utf-8")).hexdigest()[:20]
