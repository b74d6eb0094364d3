"""Record: results JSON (the grade cache) and nbgrader's course output."""
