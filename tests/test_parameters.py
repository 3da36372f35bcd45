"""helpers.parameters: the rules, the one-line message, and every chapter's check cell."""

import ast
import json
import re
import time

import jupytext
import papermill
import pytest

from helpers import parameters, runtime
from helpers.errors import BadInputError, CourseError, ParameterError
from tools import book

WRITTEN = [c for c in book.chapters() if c.written]
ONE_PROBLEM = re.compile(r"[A-Z][A-Z0-9_]*=\S.*: must be .+")


def message(values, **rules) -> str:
    with pytest.raises(ParameterError) as caught:
        parameters.check(values, **rules)
    return str(caught.value)


def test_the_message_names_the_parameter_the_value_and_what_it_accepts():
    text = message(
        {"IMAGE_SIZE": 63},
        IMAGE_SIZE=parameters.power_of_two(32, 512, why="the U-Net halves the frame log2(IMAGE_SIZE) times"),
    )
    assert text == (
        "IMAGE_SIZE=63: must be a power of two from 32 to 512 (the U-Net halves the frame log2(IMAGE_SIZE) times)"
    )
    assert "\n" not in text and ONE_PROBLEM.fullmatch(text)


def test_good_values_pass():
    values = {"PROFILE": "smoke", "SEED": 0, "DEVICE": "auto", "SIZE": 64, "BETA": 0.0, "W": "tiny", "N": 3}
    parameters.check(
        values,
        PROFILE=parameters.profile(),
        SEED=parameters.seed(),
        DEVICE=parameters.device(),
        SIZE=parameters.power_of_two(32, 512),
        BETA=parameters.number(0),
        W=parameters.weights(),
        N=parameters.integer(1, "SIZE // 8"),
    )


def test_every_bad_parameter_is_reported_on_one_line_in_rule_order():
    text = message(
        {"A": 0, "B": 5, "C": "x"},
        C=parameters.one_of("y", "z"),
        A=parameters.integer(1),
        B=parameters.integer(1, 10),
    )
    assert text == "C='x': must be one of 'y', 'z'; A=0: must be an integer, 1 or more"
    assert all(ONE_PROBLEM.fullmatch(part) for part in text.split("; "))


@pytest.mark.parametrize(
    ("value", "rule", "accepts"),
    [
        (True, parameters.integer(0), "an integer, 0 or more"),  # a bool is not a number here
        (64.0, parameters.integer(1), "an integer, 1 or more"),
        ("64", parameters.power_of_two(32, 512), "a power of two from 32 to 512"),
        (48, parameters.power_of_two(32, 512), "a power of two from 32 to 512"),
        (1024, parameters.power_of_two(32, 512), "a power of two from 32 to 512"),
        (20, parameters.multiple_of(8, 16), "a multiple of 8, 16 or more"),
        (float("nan"), parameters.number(0, 10), "a finite number from 0 to 10"),
        (float("inf"), parameters.positive(), "a finite number above 0"),
        (0, parameters.positive(), "a number above 0"),
        (-1, parameters.number(0), "a number, 0 or more"),
        (11, parameters.integer(high=10), "an integer, 10 or less"),
        ("gpu", parameters.device(), "one of 'auto', 'cpu', 'cuda', 'mps'"),
        ("mps", parameters.device("auto", "cpu", "cuda"), "one of 'auto', 'cpu', 'cuda'"),
        ("fast", parameters.profile(), "one of " + ", ".join(repr(p) for p in runtime.PROFILES)),
        (-1, parameters.seed(), "an integer from 0 to 4,294,967,295"),
        (2**32, parameters.seed(), "an integer from 0 to 4,294,967,295"),
        (1, parameters.one_of(True, False), "one of True, False"),
    ],
)
def test_bad_values_are_refused_with_what_the_rule_accepts(value, rule, accepts):
    assert message({"X": value}, X=rule) == f"X={parameters.show(value)}: must be {accepts}"


def test_devices_are_names_in_any_case():
    parameters.check({"DEVICE": "CUDA"}, DEVICE=parameters.device())


@pytest.mark.parametrize("spec", ["auto", "tiny", "openai/clip-vit-base-patch32", "stabilityai/sd-vae-ft-mse"])
def test_weights_specs_that_plan_weights_takes(spec):
    parameters.check({"W": spec}, W=parameters.weights())


def test_weights_a_local_folder_must_exist(tmp_path):
    parameters.check({"W": str(tmp_path)}, W=parameters.weights())
    for bad in ("", None, "clip", str(tmp_path / "missing" / "vae"), "a/b/c"):
        assert "must be 'auto', 'tiny', a local folder that exists or a model hub id" in message(
            {"W": bad}, W=parameters.weights()
        )


def test_a_bound_can_use_other_parameters():
    rules = {"STEPS": parameters.integer(1), "EARLY_STEP": parameters.integer(1, "STEPS")}
    assert message({"STEPS": 30, "EARLY_STEP": 50}, **rules) == "EARLY_STEP=50: must be an integer from 1 to STEPS = 30"
    window = parameters.integer(1, "round(WINDOW_SECONDS * 25)", why="frames in a window")
    assert message({"WINDOW_SECONDS": 1.0, "K": 30}, K=window) == (
        "K=30: must be an integer from 1 to round(WINDOW_SECONDS * 25) = 25 (frames in a window)"
    )


def test_a_rule_that_depends_on_a_bad_parameter_is_skipped():
    # EARLY_STEP is judged after STEPS even when written first; STEPS alone is wrong
    rules = {"EARLY_STEP": parameters.integer(1, "STEPS"), "STEPS": parameters.integer(1)}
    assert message({"STEPS": 0, "EARLY_STEP": 10}, **rules) == "STEPS=0: must be an integer, 1 or more"


def test_mistakes_in_the_rules_themselves_are_named():
    assert message({}, STEPS=parameters.integer(1)) == "STEPS: not set; the parameters cell must define it"
    with pytest.raises(ParameterError, match="uses STEPZ, which is not a parameter"):
        parameters.check({"EARLY": 1}, EARLY=parameters.integer(1, "STEPZ"))
    with pytest.raises(ParameterError, match="in a circle"):
        parameters.check({"A": 1, "B": 1}, A=parameters.integer(1, "B"), B=parameters.integer(1, "A"))
    with pytest.raises(ParameterError, match="not an expression"):
        parameters.integer(1, "STEPS +")
    with pytest.raises(ParameterError, match="cannot compute"):
        parameters.check({"A": 1, "B": 1}, A=parameters.integer(1, "B.real"))


def test_parameter_error_is_a_course_error_shown_as_one_line_in_a_notebook():
    error = ParameterError("IMAGE_SIZE=63: must be a power of two from 32 to 512")
    assert isinstance(error, BadInputError) and isinstance(error, CourseError) and isinstance(error, ValueError)
    assert error._render_traceback_() == ["ParameterError: IMAGE_SIZE=63: must be a power of two from 32 to 512"]


def test_long_values_are_shortened_and_numpy_scalars_shown_plainly():
    import numpy as np

    assert parameters.show(np.int64(63)) == "63"
    assert len(parameters.show("x" * 500)) == 60


# --- the chapters' check cells -----------------------------------------------------------------


def check_cell(chapter) -> tuple[str, list[str]]:
    """The source of the chapter's check cell (the first code cell after its parameters cell)
    and the parameter names its parameters.check call has rules for."""
    cells = jupytext.read(chapter.source).cells
    start = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    cell = next(c for c in cells[start + 1 :] if c.cell_type == "code")
    calls = [
        node
        for node in ast.walk(ast.parse(cell.source))
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "parameters.check"
    ]
    assert len(calls) == 1, f"{chapter.slug}: the cell after the parameters cell must call parameters.check once"
    return cell.source, [k.arg for k in calls[0].keywords]


@pytest.mark.parametrize("chapter", WRITTEN, ids=lambda c: c.slug)
def test_every_chapter_checks_every_parameter_first(chapter):
    _, names = check_cell(chapter)
    declared = papermill.inspect_notebook(str(chapter.notebook))
    assert sorted(names) == sorted(declared), f"{chapter.slug}: a rule for each parameter, and only for those"


@pytest.mark.parametrize("profile", runtime.PROFILES)
@pytest.mark.parametrize("chapter", WRITTEN, ids=lambda c: c.slug)
def test_every_profile_passes_the_checks(chapter, profile):
    source, _ = check_cell(chapter)
    exec(source, dict(book.chapter_parameters(chapter, profile)))  # raises ParameterError if a value is refused


@pytest.mark.notebooks
def test_chapter_03_stops_at_once_on_a_bad_image_size(tmp_path, monkeypatch):
    chapter = next(c for c in WRITTEN if c.number == "03")
    monkeypatch.setenv("COURSE_BUILD", str(tmp_path / "build"))
    monkeypatch.setenv("COURSE_EXECUTION", "papermill")
    out = tmp_path / "03.ipynb"
    started = time.perf_counter()
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        papermill.execute_notebook(
            str(chapter.notebook),
            str(out),
            parameters={**book.chapter_parameters(chapter, "smoke"), "IMAGE_SIZE": 63},
            kernel_name="python3",
            cwd=str(chapter.notebook.parent),
            progress_bar=False,
        )
    seconds = time.perf_counter() - started
    expected = "IMAGE_SIZE=63: must be a power of two from 32 to 512"
    assert caught.value.ename == "ParameterError"
    assert caught.value.evalue.startswith(expected) and "\n" not in caught.value.evalue
    cells = json.loads(out.read_text())["cells"]
    errors = [(i, o) for i, c in enumerate(cells) for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert len(errors) == 1
    index, error = errors[0]
    assert error["traceback"] == [f"ParameterError: {caught.value.evalue}"], "one line, no traceback"
    assert "parameters.check(" in "".join(cells[index]["source"])
    assert all(c.get("execution_count") is None for c in cells[index + 1 :] if c["cell_type"] == "code")
    assert not (tmp_path / "build" / chapter.slug).exists(), "no work before the check"
    assert seconds < 120, f"took {seconds:.0f} s to refuse a parameter"
