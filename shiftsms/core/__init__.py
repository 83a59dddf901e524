"""The pure core: parsing, replies, GSM-7 segments. No AWS SDK, no terminal UI."""
