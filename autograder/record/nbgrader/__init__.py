"""nbgrader's course output: autograded notebooks, gradebook, config."""
