"""nbgrader's `release_feedback` for a class graded from a folder (OUT/nbgrader_config.py uses it).

nbgrader addresses released feedback by a hash of the secret that its own
`submit` wrote beside the notebook (`submission_secret.txt`, with
`timestamp.txt`); a student's `fetch_feedback` finds their feedback by that
hash. A submission that did not come through the exchange (an LMS download,
a folder of uploads) has neither file, and nbgrader's own command stops with
a traceback on the first such student. This subclass, set as
`ExchangeFactory.release_feedback`, releases the feedback of every student who
submitted through the exchange, exactly as nbgrader does, and names the others
in one warning: their feedback is OUT/feedback/<student>/<name>.html, to hand
out another way. Nothing else of nbgrader's behaviour changes.
"""
import glob
import os

from nbgrader.exchange.default.release_feedback import ExchangeReleaseFeedback

EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")


def _from_exchange(folder):
    return all(os.path.isfile(os.path.join(folder, f)) for f in EXCHANGE_FILES)


class ReleaseFeedback(ExchangeReleaseFeedback):
    """release_feedback that skips, and names, submissions not made through the exchange."""

    def copy_files(self):
        # src_path is <feedback_directory>/<student or *>/<assignment>; one folder per student.
        folders = sorted({os.path.dirname(p)
                          for p in glob.glob(os.path.join(self.src_path, "*.html"))})
        skipped = sorted(os.path.basename(os.path.dirname(f)) for f in folders
                         if not _from_exchange(f))
        if skipped:
            self.log.warning(
                "not released: %d student(s) did not submit through nbgrader's exchange, so no "
                "fetch_feedback can find their feedback (hand them OUT/feedback/<student>/"
                "<assignment>.html instead): %s", len(skipped), ", ".join(skipped))
        if len(skipped) == len(folders):
            self.log.warning("no feedback released: no student of this assignment submitted "
                             "through the exchange")
            return
        before = self.coursedir.student_id_exclude
        # nbgrader ids here are file-safe names (gradebook.nbgrader_id): never a comma.
        self.coursedir.student_id_exclude = ",".join(filter(None, [before, *skipped]))
        try:
            super().copy_files()
        finally:
            self.coursedir.student_id_exclude = before
