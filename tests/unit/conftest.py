"""Unit-test settings: the Hypothesis profile `make mutate` runs the unit tests under.

`--hypothesis-profile=mutation` (tools/mutate.py passes it): the same examples every
run, no example database and no shrinking, so each mutant meets the same inputs and a
killed mutant costs no minimisation it does not need.
"""

from __future__ import annotations

from hypothesis import Phase, settings

settings.register_profile(
    "mutation", derandomize=True, database=None, phases=[Phase.explicit, Phase.generate]
)
