"""Pictures of frames and sequences: grids, labelled strips, animated GIFs, a frame scrubber, and
truth | prediction | error strips of a rollout (chapter 02).

`show_sequences` embeds an animated GIF, which the HTML book shows as it is, and adds an
ipywidgets slider when a person runs the notebook (not during the book's papermill run, where a
widget would render as an empty box online).
"""

from __future__ import annotations

import base64
import io
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .errors import BadInputError
from .metrics import paired
from .runtime import under_papermill
from .video import as_uint8_frames, write_gif


def grid(
    frames: np.ndarray | Sequence[np.ndarray], cols: int | None = None, pad: int = 2, background: int = 255
) -> np.ndarray:
    """Tile frames (N, H, W, 3) into one image, `cols` per row, separated by `pad` pixels."""
    array = as_uint8_frames(frames)
    n, height, width = array.shape[:3]
    cols = cols or n
    rows = -(-n // cols)
    canvas = np.full((rows * (height + pad) - pad, cols * (width + pad) - pad, 3), background, dtype=np.uint8)
    for i, frame in enumerate(array):
        r, c = divmod(i, cols)
        canvas[r * (height + pad) : r * (height + pad) + height, c * (width + pad) : c * (width + pad) + width] = frame
    return canvas


def _caption_lines(text: str, width: int) -> list[str]:
    """`text` broken at spaces into lines that fit `width` pixels in the default font."""
    font = ImageFont.load_default()
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= width - 4:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def caption(image: np.ndarray, text: str, height: int = 14, lines: int | None = None) -> np.ndarray:
    """Put `text` in a white band above an RGB image (small images get a readable band anyway).
    Text wider than the image wraps onto more lines; `lines` fixes the band's number of lines, so
    that images captioned side by side keep one height."""
    array = as_uint8_frames([image])[0]
    wrapped = _caption_lines(text, array.shape[1])
    band_height = max(height, 12 * max(lines or 0, len(wrapped)) + 2)
    band = Image.new("RGB", (array.shape[1], band_height), (255, 255, 255))
    ImageDraw.Draw(band).multiline_text(
        (2, 1), "\n".join(wrapped), fill=(0, 0, 0), font=ImageFont.load_default(), spacing=1
    )
    return np.concatenate([np.asarray(band), array], axis=0)


def upscale(frames: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement, so that 64px frames stay crisp in the book."""
    array = as_uint8_frames(frames)
    return array.repeat(factor, axis=1).repeat(factor, axis=2) if factor > 1 else array


def show_frames(
    frames: np.ndarray | Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    cols: int | None = None,
    size: float = 1.8,
    suptitle: str | None = None,
):
    """A matplotlib figure with one titled panel per frame."""
    import matplotlib.pyplot as plt

    array = as_uint8_frames(frames)
    cols = cols or len(array)
    rows = -(-len(array) // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(size * cols, size * rows * array.shape[1] / array.shape[2] + 0.4), squeeze=False
    )
    for ax in axes.flat:
        ax.axis("off")
    for i, frame in enumerate(array):
        ax = axes.flat[i]
        ax.imshow(frame)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig


def sequences_side_by_side(sequences: Mapping[str, np.ndarray], scale: int = 1) -> np.ndarray:
    """Frames (T, H, W', 3) where each time step shows every named sequence next to the others."""
    if not sequences:
        raise BadInputError("sequences: give at least one named sequence")
    arrays = {name: upscale(as_uint8_frames(seq, name), scale) for name, seq in sequences.items()}
    lengths = {name: len(a) for name, a in arrays.items()}
    shapes = {a.shape[1:] for a in arrays.values()}
    if len(set(lengths.values())) != 1 or len(shapes) != 1:
        raise BadInputError(f"sequences must share length and frame size; got lengths {lengths} and sizes {shapes}")
    steps = next(iter(lengths.values()))
    width = next(iter(shapes))[1]
    lines = max(len(_caption_lines(name, width)) for name in arrays)
    return np.stack(
        [grid([caption(a[t], name, lines=lines) for name, a in arrays.items()], pad=4) for t in range(steps)]
    )


def gif_bytes(frames: np.ndarray, fps: float = 8) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = write_gif(frames, Path(folder) / "sequence.gif", fps=fps)
        return path.read_bytes()


def show_sequences(
    sequences: Mapping[str, np.ndarray] | np.ndarray,
    fps: float = 8,
    scale: int = 1,
    save_to: str | Path | None = None,
    interactive: bool | None = None,
):
    """Show one or more sequences as an animated GIF, plus a slider to scrub through them when run live.

    `save_to` also writes the GIF to a file (under build/), for the results and the README.
    """
    from IPython.display import HTML, display

    if isinstance(sequences, Mapping):
        frames = sequences_side_by_side(sequences, scale)
    else:
        frames = upscale(sequences, scale)
    data = gif_bytes(frames, fps)
    if save_to:
        Path(save_to).parent.mkdir(parents=True, exist_ok=True)
        Path(save_to).write_bytes(data)
    encoded = base64.b64encode(data).decode()
    display(HTML(f'<img src="data:image/gif;base64,{encoded}" alt="animated sequence" />'))
    if interactive is None:
        interactive = not under_papermill()
    if interactive:
        display(scrubber(frames))


def scrubber(frames: np.ndarray):
    """An ipywidgets slider over the frames: drag to step through a sequence frame by frame."""
    import ipywidgets as widgets

    array = as_uint8_frames(frames)

    def png(i: int) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(array[i]).save(buffer, format="PNG")
        return buffer.getvalue()

    image = widgets.Image(value=png(0), format="png")
    slider = widgets.IntSlider(value=0, min=0, max=len(array) - 1, description="frame")
    play = widgets.Play(value=0, min=0, max=len(array) - 1, interval=125)
    widgets.jslink((play, "value"), (slider, "value"))
    slider.observe(lambda change: setattr(image, "value", png(change["new"])), names="value")
    return widgets.VBox([widgets.HBox([play, slider]), image])


def show_code(*objects) -> None:
    """Show the source of course code a chapter teaches (classes, functions) as the page's code, so
    that the page shows the very code that runs (chapters 05-07)."""
    import inspect

    from IPython.display import Markdown, display

    source = "\n\n".join(inspect.getsource(o) for o in objects)
    display(Markdown(f"```python\n{source}\n```"))


def glue(name: str, value) -> None:
    """Keep a figure (or any output) under `name` so that the book can show it elsewhere on the page,
    e.g. a chapter's result at its top with the directive {glue:figure}. Outside the book build
    (Colab, plain Jupyter) it does nothing."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    myst_glue(name, value, display=False)


def save_image(image: np.ndarray, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(as_uint8_frames([image])[0]).save(path)
    return path


def error_map(prediction: np.ndarray, truth: np.ndarray, gain: float = 4.0) -> np.ndarray:
    """|prediction - truth| as a colour image (uint8), amplified by `gain` so small errors show."""
    from matplotlib import colormaps

    pred, true = paired(prediction, truth)
    error = np.clip(np.abs(pred - true).mean(axis=-1) * gain, 0, 1)
    return (colormaps["magma"](error)[..., :3] * 255).astype(np.uint8)


def comparison_strip(
    truth: np.ndarray, prediction: np.ndarray, steps: Sequence[int] | None = None, gain: float = 4.0
) -> np.ndarray:
    """One image: truth on top, prediction in the middle, error map below, for chosen steps."""
    pred, true = paired(prediction, truth)
    steps = list(steps) if steps is not None else list(range(len(true)))
    rows = [as_uint8_frames(true[steps]), as_uint8_frames(pred[steps]), error_map(pred[steps], true[steps], gain)]
    return grid(np.concatenate(rows), cols=len(steps), pad=2)


def save_comparison(
    truth: np.ndarray, prediction: np.ndarray, path: str | Path, fps: float = 6, gain: float = 4.0
) -> tuple[Path, Path]:
    """Write truth | prediction | error as a PNG strip and as an animated GIF (path without suffix)."""
    path = Path(path)
    pred, true = paired(prediction, truth)
    png = save_image(comparison_strip(true, pred, gain=gain), path.with_suffix(".png"))
    errors = error_map(pred, true, gain)
    frames = [
        grid([as_uint8_frames(true[t : t + 1])[0], as_uint8_frames(pred[t : t + 1])[0], errors[t]], pad=2)
        for t in range(len(true))
    ]
    gif = write_gif(np.stack(frames), path.with_suffix(".gif"), fps=fps)
    return png, gif


_SORT_SCRIPT = """
<script>
(function () {
  var table = document.getElementById("%(id)s");
  if (!table) { return; }
  var heads = table.tHead ? table.tHead.rows[table.tHead.rows.length - 1].cells : [];
  Array.prototype.forEach.call(heads, function (head, column) {
    head.style.cursor = "pointer";
    head.title = "click to sort";
    head.addEventListener("click", function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var up = head.getAttribute("data-order") !== "up";
      rows.sort(function (a, b) {
        var x = a.cells[column].textContent.trim(), y = b.cells[column].textContent.trim();
        var nx = parseFloat(x.replace(/,/g, "")), ny = parseFloat(y.replace(/,/g, ""));
        var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return up ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
      head.setAttribute("data-order", up ? "up" : "down");
    });
  });
})();
</script>
"""


def _tidy_for_display(frame):
    """(frame, formatters): missing values as NaN whatever their type (so every blank shows
    alike), and a formatter for each column of whole numbers (counts), so that 10 is not 10.000."""
    import pandas as pd

    frame = frame.astype(object).where(frame.notna(), np.nan).infer_objects()
    formatters = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_float_dtype(values) and values.notna().any():
            present = values.dropna()
            if (present == present.round()).all() and present.abs().max() < 2**53:
                formatters[column] = lambda v: "-" if pd.isna(v) else f"{int(v):,}"
    return frame, formatters


def sortable_table(frame, name: str, digits: int = 3, caption: str | None = None) -> None:
    """Show a DataFrame as an HTML table whose columns sort when their heading is clicked (a few
    lines of inline script, nothing loaded from elsewhere); without scripts it is a plain table.
    `caption` is shown above the table as part of it, so it stays with its table even where a
    notebook merges a cell's printed lines into one block."""
    import html as html_text
    import re
    import sys

    from IPython.display import HTML, display

    sys.stdout.flush()  # a caption printed just before belongs above the table, not after it
    identifier = "sortable-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    tidy, formatters = _tidy_for_display(frame)
    table = tidy.to_html(
        table_id=identifier,
        formatters=formatters,
        float_format=lambda v: f"{v:,.{digits}f}",
        na_rep="-",
        border=0,
    )
    heading = f"<p><strong>{html_text.escape(caption)}</strong></p>\n" if caption else ""
    display(HTML(heading + table + _SORT_SCRIPT % {"id": identifier}))
