"""Lambda entry logic: read the event, build services once per container, log, report."""
