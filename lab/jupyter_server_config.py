# JupyterLab for the course (`make lab`): the server opens on notebooks/, and jupytext's contents
# manager serves each chapter's .py (py:percent) as a notebook. Saving a chapter writes both
# halves of the pair (.py and .ipynb), with the formats and metadata filters of jupytext.toml at
# the repository root, so the files stay exactly as `make sync` would write them.
from pathlib import Path

c = get_config()  # noqa: F821 (provided by Jupyter when it loads this file)
course_root = Path(__file__).resolve().parents[1]

c.ServerApp.root_dir = str(course_root / "notebooks")
c.ServerApp.contents_manager_class = "jupytext.TextFileContentsManager"
# A double click on a chapter's .py opens it as a notebook (lab/settings/overrides.json).
c.LabApp.app_settings_dir = str(course_root / "lab" / "settings")
c.ServerApp.allow_root = True  # containers and CI run as root; the server listens on localhost with a token
