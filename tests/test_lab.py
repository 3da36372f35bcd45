"""`make lab`: JupyterLab on notebooks/ with jupytext's contents manager, as a learner uses it.

The server runs on a copy of the notebooks (so the test never edits the course), on a free
localhost port, with the same lab/jupyter_server_config.py that `make lab` uses."""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from helpers import runtime

ROOT = runtime.course_root()
CHAPTER = "02_measuring_predictions"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Lab:
    def __init__(self, url: str, token: str, root: Path):
        self.url, self.token, self.root = url, token, root

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())


@pytest.fixture
def lab(tmp_path):
    root = tmp_path / "course"
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "lab", root / "lab")
    shutil.copy(ROOT / "jupytext.toml", root)
    port, token = free_port(), secrets.token_hex(16)
    command = [
        str(Path(sys.executable).with_name("jupyter")),
        "lab",
        f"--config={root / 'lab' / 'jupyter_server_config.py'}",
        f"--port={port}",
        "--ip=127.0.0.1",
        "--no-browser",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
    ]
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
    }
    log = open(tmp_path / "lab.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    lab = Lab(f"http://127.0.0.1:{port}", token, root)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                lab.call("GET", "/api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(tmp_path / 'lab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield lab
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_a_double_click_on_a_chapter_py_opens_the_notebook_view(lab):
    settings = lab.call("GET", "/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    # overrides.json changes the default of the setting (what a learner who set nothing gets)
    assert settings["schema"]["properties"]["defaultViewers"]["default"]["python"] == "Jupytext Notebook"


def test_a_chapter_py_opens_as_a_notebook_and_saving_writes_both_halves(lab):
    model = lab.call("GET", f"/api/contents/{CHAPTER}.py?type=notebook&content=1")
    assert model["type"] == "notebook"
    cells = model["content"]["cells"]
    assert len(cells) > 10 and cells[0]["cell_type"] == "markdown"
    assert any("parameters" in c["metadata"].get("tags", []) for c in cells)

    py, ipynb = lab.root / "notebooks" / f"{CHAPTER}.py", lab.root / "notebooks" / f"{CHAPTER}.ipynb"
    before = py.read_text(), ipynb.read_text()
    marker = "A note written in JupyterLab."
    notebook = model["content"]
    notebook["cells"].insert(1, {"cell_type": "markdown", "metadata": {}, "source": marker})
    lab.call("PUT", f"/api/contents/{CHAPTER}.py", {"type": "notebook", "format": "json", "content": notebook})

    after = py.read_text(), ipynb.read_text()
    assert after[0] != before[0] and after[1] != before[1], "saving must write the .py and the .ipynb"
    assert f"# {marker}" in after[0] and marker in after[1]
    saved = json.loads(after[1])
    assert all(not c.get("outputs") for c in saved["cells"] if c["cell_type"] == "code")

    # The pair is exactly what `make sync` would leave: syncing changes neither file.
    subprocess.run(
        [sys.executable, "-m", "jupytext", "--sync", "--quiet", f"notebooks/{CHAPTER}.py"], cwd=lab.root, check=True
    )
    assert (py.read_text(), ipynb.read_text()) == after

    # and the chapter's other pairs are untouched
    for other in (lab.root / "notebooks").glob("0[0-9]_*.py"):
        if other.stem != CHAPTER:
            assert other.read_text() == (ROOT / "notebooks" / other.name).read_text()
