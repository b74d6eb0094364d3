"""Grading on Gradescope: one container per submission, on Gradescope's fleet.

- `build`: autograder.zip (setup.sh, run_autograder, the grader, its pins);
- `run`: what run_autograder does for one submission (results/results.json);
- `config`: the instructor's gradescope.toml (who sees which test, when; a cap
  on graded submissions).
"""
