"""nbgrader settings of a student's Validate button.

The button reads nbgrader_config.py from the Jupyter config path (this folder when
JUPYTER_CONFIG_DIR points here, ~/.jupyter, /etc/jupyter) and from the notebook
server's working folder. The course's own nbgrader_config.py loads this file, so
`nbgrader validate` in the course folder shows the same.
"""
c = get_config()  # noqa: F821  (injected by traitlets)

# The check cells' whole message: their advice comes after the numbers, past
# nbgrader's default of 90 columns, where Validate would cut it.
c.Validator.width = 250
