from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import viz


def test_tables_show_counts_as_integers_and_every_blank_alike(monkeypatch):
    frame = pd.DataFrame({"KID": [1.5, None, np.nan], "clips": [10.0, 16.0, None], "name": ["a", None, "c"]})
    tidy = viz._tidy_for_display(frame)
    assert str(tidy["clips"].dtype) == "Int64" and tidy["KID"].dtype == float
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj.data))
    viz.sortable_table(frame, "t", digits=3, caption="chapter 06: its records")
    [html] = shown
    assert "None" not in html and "10.000" not in html and ">10<" in html and "1.500" in html
    assert html.index("chapter 06: its records") < html.index("<table")
