from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import viz


def test_tables_show_counts_as_integers_and_every_blank_alike(monkeypatch):
    frame = pd.DataFrame({"KID": [1.5, None, np.nan], "clips": [10.0, 16.0, None], "name": ["a", None, "c"]})
    tidy, formatters = viz._tidy_for_display(frame)
    assert list(formatters) == ["clips"] and tidy["KID"].dtype == float
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj.data))
    viz.sortable_table(frame, "t", digits=3, caption="chapter 06: its records")
    [html] = shown
    table = html[html.index("<table") : html.index("</table>")]
    assert "None" not in table and "NA" not in table and "NaN" not in table
    assert "10.000" not in table and ">10<" in table and "1.500" in table
    assert html.index("chapter 06: its records") < html.index("<table")
