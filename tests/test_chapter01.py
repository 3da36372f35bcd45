"""Chapter 01 runs without TensorFlow: every TensorFlow use in its source sits under one guard.

The chapter serves its (frame, next frame) pairs to PyTorch always and to TensorFlow only where
TensorFlow is installed (a GPU box without it, a learner who skips chapter 03), so the guard is
checked on the source: a behavioural run with TensorFlow hidden takes a smoke run of the chapter.
"""

from __future__ import annotations

import ast
import os

import pytest

from helpers import runtime

CHAPTER = runtime.course_root() / "notebooks" / "01_video_to_frames.py"
# Calls that import or need TensorFlow, whatever object they are reached through.
TENSORFLOW_CALLS = {"import_tensorflow", "tf_pairs"}


def _is_find_spec_tensorflow(node: ast.AST) -> bool:
    """`importlib.util.find_spec("tensorflow") is not None`."""
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.IsNot)):
        return False
    call, none = node.left, node.comparators[0]
    return (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "find_spec"
        and [a.value for a in call.args if isinstance(a, ast.Constant)] == ["tensorflow"]
        and isinstance(none, ast.Constant)
        and none.value is None
    )


def unguarded_tensorflow_uses(source: str) -> list[str]:
    """Every TensorFlow use in `source` that no `if GUARD:` body encloses, where GUARD is the name
    bound to `importlib.util.find_spec("tensorflow") is not None`; names bound only inside a
    guard (tf, its datasets and tensors) count as TensorFlow uses too."""
    tree = ast.parse(source)
    guards = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and _is_find_spec_tensorflow(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    if not guards:
        return ["no guard: no name is bound to importlib.util.find_spec('tensorflow') is not None"]

    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id in guards:
            for statement in node.body:  # the body only: the else branch runs without TensorFlow
                guarded.update(id(inner) for inner in ast.walk(statement))

    def bound_names(inside: bool) -> set[str]:
        names = set()
        for node in ast.walk(tree):
            if (id(node) in guarded) != inside:
                continue
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        return names

    tensorflow_names = {"tf"} | (bound_names(inside=True) - bound_names(inside=False))
    problems = []
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        line = getattr(node, "lineno", "?")
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in tensorflow_names:
            problems.append(f"line {line}: {node.id} outside the TensorFlow guard")
        elif isinstance(node, ast.Attribute) and node.attr in TENSORFLOW_CALLS:
            problems.append(f"line {line}: .{node.attr} outside the TensorFlow guard")
        elif isinstance(node, ast.Import) and any(a.name.split(".")[0] == "tensorflow" for a in node.names):
            problems.append(f"line {line}: import tensorflow outside the TensorFlow guard")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "tensorflow":
            problems.append(f"line {line}: from tensorflow import outside the TensorFlow guard")
    return problems


def test_chapter_01_guards_every_tensorflow_use():
    assert unguarded_tensorflow_uses(CHAPTER.read_text()) == []


def test_chapter_01_says_when_it_skips_the_tensorflow_half():
    source = CHAPTER.read_text()
    assert "TensorFlow is not installed here (chapter 03 needs it)" in source


GUARD = 'import importlib.util\nHAVE_TF = importlib.util.find_spec("tensorflow") is not None\n'


@pytest.mark.parametrize(
    "source, problem",
    [
        (GUARD + "tf = runtime.import_tensorflow()\n", ".import_tensorflow"),
        (GUARD + "if HAVE_TF:\n    tf = runtime.import_tensorflow()\nx = tf.constant(1)\n", "tf outside"),
        (GUARD + "if HAVE_TF:\n    pass\nelse:\n    data = datasets.tf_pairs(f, p)\n", ".tf_pairs"),
        (GUARD + "if HAVE_TF:\n    tf = runtime.import_tensorflow()\n    x_tf = tf.ones(1)\nprint(x_tf)\n", "x_tf"),
        (GUARD + "import tensorflow\n", "import tensorflow"),
        ("tf = runtime.import_tensorflow() if ok else None\n", "no guard"),
    ],
)
def test_the_check_finds_an_unguarded_use(source, problem):
    problems = unguarded_tensorflow_uses(source)
    assert any(problem in p for p in problems), problems


def test_the_check_accepts_a_guarded_use():
    source = GUARD + (
        "if HAVE_TF:\n"
        "    tf = runtime.import_tensorflow()\n"
        "    data = datasets.tf_pairs(f, p)\n"
        "    print(tf.reduce_min(next(iter(data))[0]))\n"
        "else:\n"
        "    print('TensorFlow half skipped')\n"
    )
    assert unguarded_tensorflow_uses(source) == []


def test_display_text_writes_paths_in_the_checkout_relative_to_it():
    root = runtime.course_root()
    message = f"cannot read {root / 'build' / 'data' / 'x.rar'}; see {os.sep}elsewhere{os.sep}y.txt"
    shown = runtime.display_text(message)
    assert shown == f"cannot read {os.path.join('build', 'data', 'x.rar')}; see {os.sep}elsewhere{os.sep}y.txt"
