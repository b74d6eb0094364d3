"""Assignment packages shipped with the grader; each subpackage defines ASSIGNMENT.

The core finds them here, through the `autograder.assignments` entry point
group, or in the folders named by AUTOGRADER_ASSIGNMENTS (see
autograder/assignment.py). Nothing in the core imports one by name.
"""
