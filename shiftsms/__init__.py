"""shiftsms: fill open shifts by two-way SMS on AWS End User Messaging."""

__version__ = "0.1.0"
