"""Find and read: the only code that opens a student's files."""
