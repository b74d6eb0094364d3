"""Release: what instructors and students are given (nbgrader release, student zip, exchange)."""
