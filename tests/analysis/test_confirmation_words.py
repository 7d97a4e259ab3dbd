"""The words of a confirmation (autotune/analysis/confirmation_words.py): each value a ranking row's ``versus_top``
can take, as studies store it, has its word in English and in Chinese."""

from __future__ import annotations

import pytest

from autotune.analysis.confirmation_words import VERSUS_KEYS, versus_word
from autotune.analysis.seed_ranking import VERSUS_TOP, rank
from autotune.words import i18n


def test_rank_writes_every_versus_top_value_and_no_other():
    seen = set()
    for entries in (
        # top, indistinguishable, the same difference on every seed, worse, diverged (three seeds: tested)
        [
            (1, 0.97, [0.95, 0.96, 0.955]),
            (2, 0.9, [0.80, 0.82, 0.805]),
            (3, 0.9, [0.96, 0.94, 0.95]),
            (4, 0.9, [0.94, 0.95, 0.945]),
            (5, 0.9, [0.9, None, 0.9]),
        ],
        [(1, 0.9, [0.9, 0.91]), (2, 0.8, [0.8, 0.85])],  # two seeds: too few for a test
        [(1, 0.9, [None, 0.91])],  # every trial diverged: no top
    ):
        seen |= {r["versus_top"] for r in rank(entries, direction="maximize")["ranking"]}
    assert seen == set(VERSUS_TOP)


def test_every_versus_top_value_maps_to_a_key_that_exists_in_both_languages():
    assert set(VERSUS_KEYS) == set(VERSUS_TOP)
    for value in VERSUS_TOP:
        english, chinese = i18n.TEXT[VERSUS_KEYS[value]]
        assert english and chinese
        assert versus_word(value, "en") == english and versus_word(value, "zh") == chinese
    assert versus_word(None, "zh") == "-"


def test_a_value_without_a_key_fails_at_once_instead_of_forming_one():
    with pytest.raises(KeyError):
        versus_word("slightly worse", "en")
