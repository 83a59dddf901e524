"""shiftsms: fill open shifts by two-way SMS on AWS End User Messaging."""


def __getattr__(name: str) -> str:
    """``__version__``, read from the installed package metadata (its single source)."""
    if name == "__version__":
        from shiftsms.resources import version  # noqa: PLC0415 - only when asked

        return version()
    raise AttributeError(f"module 'shiftsms' has no attribute {name!r}")
