"""``python -m shiftsms``."""

from shiftsms.cli import main

main()
