from hypothesis import given, settings
from hypothesis import strategies as st

from qawl.normalize import NormalizerConfig, normalize, normalize_fast

# Arabic letters, diacritics, tatweel, punctuation, digits, spaces and invisible marks, plus anything else.
ARABIC = st.text(alphabet=st.sampled_from(list("قالأإآىةوفبلك ًٌٍَُِّْـ،؛؟.!\"«»“”0123456789٣\u200f\u200b\n")))
ANY = st.one_of(ARABIC, st.text())
CONFIGS = st.builds(NormalizerConfig, *[st.booleans()] * 8)


@settings(max_examples=200, deadline=None)
@given(ANY, CONFIGS)
def test_fast_equals_full(text, config):
    assert normalize_fast(text, config) == normalize(text, config)[0]


@settings(max_examples=200, deadline=None)
@given(ANY, CONFIGS, st.data())
def test_every_normalized_span_maps_back_inside_the_original(text, config, data):
    norm, omap = normalize(text, config)
    assert len(omap) == len(norm) and omap.original_length == len(text)
    start = data.draw(st.integers(0, len(norm)))
    end = data.draw(st.integers(start, len(norm)))
    lo, hi = omap.to_original(start, end)
    assert 0 <= lo <= hi <= len(text)
    # A kept character maps to itself (or its unified form) in the original.
    for i in range(start, end):
        a, b = omap.orig_starts[i], omap.orig_ends[i]
        if a < b:
            assert lo <= a and b <= hi


@settings(max_examples=100, deadline=None)
@given(ARABIC)
def test_original_span_round_trips_through_the_normalized_text(text):
    norm, omap = normalize(text)
    lo, hi = omap.to_normalized(0, len(text))
    assert (lo, hi) == (0, len(norm)) or not text.strip()


def test_hamza_is_kept_by_default():
    assert normalize_fast("أكد إن آخر") == "أكد إن آخر"


def test_diacritics_and_tatweel_are_removed():
    assert normalize_fast("أكّدَ الـوزير") == "أكد الوزير"


def test_unification_options():
    config = NormalizerConfig(unify_alef=True, unify_yaa=True, unify_taa_marbuta=True)
    assert normalize_fast("أكد إلى مدرسة", config) == "اكد الي مدرسه"


def test_punctuation_and_digits_are_spaced_and_map_back():
    text = "قال:\"2020\""
    norm, omap = normalize(text)
    assert norm == 'قال : " 2020 "'
    i = norm.index("2020")
    assert text[slice(*omap.to_original(i, i + 4))] == "2020"


def test_spacing_can_be_switched_off():
    config = NormalizerConfig(space_punctuation=False, space_digits=False)
    assert normalize_fast("قال:2020", config) == "قال:2020"
