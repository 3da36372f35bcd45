"""helpers.claims: sentences computed from the run's numbers."""

import numpy as np
import pytest

from helpers import claims
from helpers.errors import BadInputError


def test_versus_reads_the_numbers_in_the_direction_that_is_better():
    assert claims.versus(25.8, 24.6, "dB") == ("beats", "by 1.20 dB")
    assert claims.versus(np.float32(24.6), 25.8, "dB") == ("loses to", "by 1.20 dB")
    assert claims.versus(0.10, 0.12, better="lower", digits=3) == ("beats", "by 0.020")
    assert claims.versus(25.81, 25.80, "dB", tolerance=0.05) == ("ties with", "within 0.05 dB")
    # the margin a reader reads off a table that shows 30.00 and 27.51, not 2.4965 rounded
    assert claims.signed(-0.001, "dB") == "0.00 dB" and claims.signed(-0.3) == "-0.30"
    # the exact difference, rounded: 33.0633 - 20.7851 is 12.28 from a table of four decimals
    assert claims.versus(20.7851, 33.0633, "dB") == ("loses to", "by 12.28 dB")


def test_compare_and_signed():
    assert claims.compare(0.1453, 0.1398, higher="brighter", lower="darker") == "brighter"
    assert claims.compare(0.1398, 0.1453, higher="brighter", lower="darker") == "darker"
    assert claims.compare(1.0, 1.0004, same="about as bright as", tolerance=0.001) == "about as bright as"
    assert claims.signed(-0.0123, "dB") == "-0.01 dB" and claims.signed(0.4, digits=1) == "+0.4"


def test_claims_refuse_what_is_not_a_number_and_say_which_claim_failed():
    with pytest.raises(BadInputError, match="finite number"):
        claims.compare(float("nan"), 1.0)
    with pytest.raises(BadInputError, match="'higher' or 'lower'"):
        claims.versus(1.0, 2.0, better="up")
    claims.holds(True, "fine")
    with pytest.raises(AssertionError, match="claim does not hold in this run: A beats B"):
        claims.holds(False, "A beats B")
