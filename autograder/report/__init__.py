"""Reports written from StudentResults: grades.csv, feedback, Gradescope, summary, class report."""
from . import lms  # noqa: F401
from .class_report import write_class_report, write_mistakes_csv  # noqa: F401
from .csv_report import write_grades_csv  # noqa: F401
from .feedback import feedback_path, write_feedback  # noqa: F401
from .gradescope import gradescope_path, write_gradescope  # noqa: F401
from .summary import summary_table, write_histogram  # noqa: F401
