"""Grading on PrairieLearn: one container per submission, on a university's own grader hosts.

- `results`: a StudentResult as PrairieLearn's results.json (the contract of
  PrairieLearn's docs/externalGrading.md and apps/grader-host), and `problems`,
  which checks a document against it;
- `run`: what the image's entrypoint does for one job (/grade in, one
  /grade/results/results.json out, exit 0);
- `build`: `make prairielearn`, the course fragment (questions/) and the
  grader image's build folder (Containerfile, entrypoint, the grader, its pins).

What a student sees, and when, comes from gradescope.toml (the one place for
it): see `results` and `reports/visibility.py`.
"""
