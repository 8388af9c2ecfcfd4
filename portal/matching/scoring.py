"""How well a mentee and a mentor fit, which pairs are allowed at all, and the reasons shown to people.

The fit
-------
Every mentee-mentor pair gets six components, each between 0 and 1 ("|x|" is the number of choices):

``values``
    |values both chose| / max(1, min(|mentee's values|, |mentor's values|)); 0 when either chose none.
``interests``
    The same formula, for interests.
``experiences``
    The same formula, for experiences.
``skills``
    |skills the mentee wants to grow that the mentor offers| / |skills the mentee wants to grow|;
    0 when the mentee chose none.
``logistics``
    0.5 x formats + 0.5 x time. Formats is 1 when they share a way to meet, when either chose none, or
    when the mentee would like to start with a written introduction and the mentor offers written
    mentoring; otherwise 0. Time is 1 - (steps apart on 30m < 1h < 90m < 2h) / 3, or 0.5 when either
    did not say.
``perspective``
    First the similarity of their backgrounds: sim = |interests and experiences both chose| /
    |interests and experiences either chose| (0 when neither chose any). A mentee who asked for a
    different perspective gets 1 - sim (the mentor is always from another team, which is part of the
    point); one who asked for someone like them gets sim; anyone else gets 0.5.

The score is a whole number from 0 to 100::

    score = round(100 x (sum of weight x component) / (sum of weights))

with the director's weights (by default values 25, interests 15, experiences 15, skills 25,
logistics 10 and perspective 10; see ``Weights``). Participants never see the number, only its band
(``band``): "Strong fit" from 70, "Good fit" from 45, otherwise "Possible fit".

Pairs that are never made
-------------------------
``is_allowed`` is false, whatever the score, when the two are the same person, are in the same team,
either has excluded the other (such as a manager and their report), the pair already ended this cycle
(``forbidden``), or the mentee only wants written mentoring and the mentor does not offer it.

Reasons
-------
Up to three plain sentences, from the components that add the most to the score (ties in the fixed
order skills, values, experiences, interests, perspective, logistics). A component that adds nothing,
or has nothing concrete to say (an unknown time, "no preference" on perspective), gives no reason.

Arithmetic
----------
``score_pair`` scores one pair in plain Python; ``score_matrix`` (and bulk matching) scores whole
cohorts at once with numpy. The weights enter as float32 multipliers 100 x weight / sum of weights.
Both paths count shared choices exactly (set intersections in one, bit counts in the other), then do
the same float32 operations in the same order; each ``/``, ``x`` and ``+`` is correctly rounded, so
they agree on every score to the last bit, even for pairs that land exactly on a half point. Rounding
is to the nearest whole number, halves to even.
"""

from __future__ import annotations

import copy
import functools
import itertools
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from portal.matching.model import Labels, Match, Person, Weights

if TYPE_CHECKING:
    from portal.matching.flow import Shortlist

COMPONENTS = ("values", "interests", "experiences", "skills", "logistics", "perspective")
TIMES = ("30m", "1h", "90m", "2h")
WRITTEN = "written"
WRITTEN_INTRO = "written_intro"
LIKE_ME = "like_me"
DIFFERENT = "different"

# Reasons for equally strong components come in this order: what the mentee wants to grow matters most.
_REASON_ORDER = ("skills", "values", "experiences", "interests", "perspective", "logistics")
_WRITTEN_ONLY = frozenset({WRITTEN})
_UNKNOWN_TIME = len(TIMES)
_F32 = np.float32
_ZERO = _F32(0)
_HALF = _F32(0.5)
_ONE = _F32(1)
_ROUNDER = _F32(2**23)
# Cells per float32 scratch matrix in the vectorised path: small enough to stay in cache, big enough
# that numpy's per-call overhead does not matter.
_BLOCK_CELLS = 1 << 17


def _half_time_table() -> np.ndarray:
    """Half the time closeness for every pair of time indexes (the last index is "unknown")."""
    table = np.empty((_UNKNOWN_TIME + 1, _UNKNOWN_TIME + 1), dtype=np.float32)
    for a in range(_UNKNOWN_TIME + 1):
        for b in range(_UNKNOWN_TIME + 1):
            closeness = 0.5 if _UNKNOWN_TIME in (a, b) else 1 - abs(a - b) / (len(TIMES) - 1)
            table[a, b] = closeness / 2
    return table


# Both paths look the time part up here, so they cannot differ on it.
_HALF_TIME = _half_time_table()


def _time_index(time: str | None) -> int:
    return TIMES.index(time) if time in TIMES else _UNKNOWN_TIME


def scaled_weights(weights: Weights) -> np.ndarray:
    """The weights as float32 multipliers that already include ``100 / sum(weights)``. Raises nothing."""
    ordered = weights.ordered()
    total = sum(ordered)
    return np.array([100 * value / total for value in ordered], dtype=np.float32)


# --------------------------------------------------------------------------------------------------------
# Hard constraints


def is_allowed(mentee: Person, mentor: Person, *, forbidden: Collection[tuple[int, int]] = frozenset()) -> bool:
    """Whether the pair may be matched at all, whatever its score.

    False when they are the same person or in the same team, when either lists the other in
    ``excluded``, when ``(mentee.id, mentor.id)`` is in ``forbidden`` (pairs that already ended this
    cycle), or when the mentee only wants written mentoring and the mentor does not offer it.
    Raises nothing.
    """
    if mentee.id == mentor.id or mentee.team_id == mentor.team_id:
        return False
    if mentor.id in mentee.excluded or mentee.id in mentor.excluded:
        return False
    if (mentee.id, mentor.id) in forbidden:
        return False
    return not (mentee.formats == _WRITTEN_ONLY and WRITTEN not in mentor.formats)


# --------------------------------------------------------------------------------------------------------
# One pair, in plain Python


@functools.lru_cache(maxsize=4096)
def _ratio(shared: int, denominator: int) -> np.float32:
    # Cached: the counts are small, and a numpy scalar division costs far more than a lookup.
    return _F32(shared) / _F32(denominator)


def _formats_fit(mentee: Person, mentor: Person) -> bool:
    if not mentee.formats or not mentor.formats or mentee.formats & mentor.formats:
        return True
    return mentee.start == WRITTEN_INTRO and WRITTEN in mentor.formats


def _components(mentee: Person, mentor: Person) -> tuple[np.float32, ...]:
    """The six components, in ``COMPONENTS`` order, as float32 exactly like the vectorised path."""

    def overlap(a: frozenset[str], b: frozenset[str]) -> np.float32:
        return _ratio(len(a & b), max(1, min(len(a), len(b))))

    skills = _ratio(len(mentee.skills_grow & mentor.skills_offer), max(1, len(mentee.skills_grow)))
    formats = _HALF if _formats_fit(mentee, mentor) else _ZERO
    logistics = formats + _HALF_TIME[_time_index(mentee.time), _time_index(mentor.time)]
    # Interests and experiences are separate lists: a key in both still counts as two choices.
    shared = len(mentee.interests & mentor.interests) + len(mentee.experiences & mentor.experiences)
    either = len(mentee.interests) + len(mentee.experiences) + len(mentor.interests) + len(mentor.experiences)
    similarity = _ratio(shared, max(1, either - shared))
    if mentee.perspective == DIFFERENT:
        perspective = _ONE - similarity
    elif mentee.perspective == LIKE_ME:
        perspective = similarity
    else:
        perspective = _HALF
    return (
        overlap(mentee.values, mentor.values),
        overlap(mentee.interests, mentor.interests),
        overlap(mentee.experiences, mentor.experiences),
        skills,
        logistics,
        perspective,
    )


def _total(components: Sequence[np.float32], scaled: np.ndarray) -> int:
    total = components[0] * scaled[0]
    for component, weight in zip(components[1:], scaled[1:], strict=True):
        total = total + component * weight
    return int(min(100, max(0, np.rint(total))))


def score_pair(mentee: Person, mentor: Person, weights: Weights = Weights(), labels: Labels | None = None) -> Match:
    """Score one pair and explain it: a ``Match`` with the score (0-100) and up to three reasons.

    Does not check the hard constraints; call ``is_allowed`` for that. ``labels`` supplies the wording
    of choices (the key with spaces for underscores when missing). Raises nothing.
    """
    scaled = scaled_weights(weights)
    components = _components(mentee, mentor)
    return Match(
        mentee_id=mentee.id,
        mentor_id=mentor.id,
        score=_total(components, scaled),
        reasons=_reasons(mentee, mentor, components, scaled, labels),
    )


def reasons_for(
    mentee: Person,
    mentor: Person,
    weights: Weights = Weights(),
    labels: Labels | None = None,
    *,
    audience: str = "mentee",
) -> tuple[str, ...]:
    """Up to three reasons the pair fits, phrased for ``audience`` ("mentee", "mentor" or "director").

    Raises ValueError for an unknown audience.
    """
    if audience not in AUDIENCES:
        raise ValueError(audience)
    scaled = scaled_weights(weights)
    return _reasons(mentee, mentor, _components(mentee, mentor), scaled, labels, audience)


def explain(
    mentee: Person,
    mentor: Person,
    scaled: np.ndarray,
    labels: Labels | None,
    score: int,
    parts: tuple[Sequence[float], Sequence[float]] | None = None,
) -> Match:
    """A ``Match`` for a pair the vectorised path already scored, with its reasons.

    ``parts`` is the pair's (components, weighted components) from ``pair_parts`` when the caller has
    them; otherwise they are worked out here. Raises nothing.
    """
    if parts is None:
        return Match(mentee.id, mentor.id, score, _reasons(mentee, mentor, _components(mentee, mentor), scaled, labels))
    return Match(mentee.id, mentor.id, score, _ranked_reasons(mentee, mentor, *parts, labels))


# --------------------------------------------------------------------------------------------------------
# Reasons


def _label(labels: Labels | None, list_name: str, key: str) -> str:
    if labels is not None:
        found = labels.get(list_name, {}).get(key)
        if found:
            return found
    return key.replace("_", " ")


@functools.lru_cache(maxsize=4096)
def _lower_first(text: str) -> str:
    # Leave acronyms such as "AI" or "UX research" alone.
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def _listed(labels: Labels | None, list_name: str, keys: Iterable[str], most: int = 2) -> str:
    words = [_lower_first(_label(labels, list_name, key)) for key in sorted(keys)]
    if len(words) > most:
        words = [*words[:most], "more"]
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " and " + words[-1]


def _first_name(person: Person) -> str:
    parts = (person.name or "").split()
    return parts[0] if parts else "Your mentor"


_FORMAT_PHRASES = {
    "in_person": "You both like to meet in person",
    "walk": "You both like to meet on a walk",
    "video": "You both like to meet by video call",
    WRITTEN: "You both like to write to each other",
}


AUDIENCES = ("mentee", "mentor", "director")


def _reason(
    name: str, mentee: Person, mentor: Person, value: float, labels: Labels | None, audience: str = "mentee"
) -> str | None:
    """One reason in plain words, phrased for whoever reads it: the mentee, the mentor or the director."""
    text = _mentee_reason(name, mentee, mentor, value, labels)
    if text is None or audience == "mentee":
        return text
    guide, learner = _first_name(mentor), _first_name(mentee)
    if name == "skills":
        shared = _listed(labels, "skills", mentee.skills_grow & mentor.skills_offer)
        if audience == "mentor":
            return f"{learner} wants to grow {shared}, which you offer"
        return f"{guide} offers {shared}, which {learner} wants to grow"
    if name == "perspective":
        asked = "a different perspective" if mentee.perspective == DIFFERENT else "a path like theirs"
        if audience == "mentor":
            return f"{learner} asked for {asked}, and you bring it"
        return f"{learner} asked for {asked}, and {guide} brings it"
    if text.startswith(guide + " is happy to start with a written introduction"):
        if audience == "mentor":
            return f"{learner} would like to start with a written introduction, which suits you"
        return f"{learner} would like a written introduction first, which suits {guide}"
    if audience == "director":
        # "You both value ..." reads "Both value ..."; "You share ..." reads "They share ...".
        for mine, theirs in (("You both ", "Both "), ("You share ", "They share "), ("Your ", "Their ")):
            if text.startswith(mine):
                return theirs + text[len(mine) :]
        text = text.replace("You have both", "Both have")
    return text


def _mentee_reason(name: str, mentee: Person, mentor: Person, value: float, labels: Labels | None) -> str | None:
    if name == "values":
        return f"You both value {_listed(labels, 'values', mentee.values & mentor.values, most=3)}"
    if name == "skills":
        shared = _listed(labels, "skills", mentee.skills_grow & mentor.skills_offer)
        return f"{_first_name(mentor)} offers {shared}, which you want to grow"
    if name == "interests":
        shared = mentee.interests & mentor.interests
        noun = "an interest" if len(shared) == 1 else "interests"
        return f"You share {noun} in {_listed(labels, 'interests', shared)}"
    if name == "experiences":
        shared = mentee.experiences & mentor.experiences
        return f"You have both been through {_listed(labels, 'experiences', shared)}"
    if name == "logistics":
        shared = sorted(mentee.formats & mentor.formats, key=lambda key: (key not in _FORMAT_PHRASES, key))
        if shared:
            key = shared[0]
            if key in _FORMAT_PHRASES:
                return _FORMAT_PHRASES[key]
            return f"You both chose {_lower_first(_label(labels, 'formats', key))} as a way to meet"
        if mentee.start == WRITTEN_INTRO and WRITTEN in mentor.formats:
            return f"{_first_name(mentor)} is happy to start with a written introduction"
        mentee_time, mentor_time = _time_index(mentee.time), _time_index(mentor.time)
        if _UNKNOWN_TIME not in (mentee_time, mentor_time) and abs(mentee_time - mentor_time) <= 1:
            return "Your available time fits"
        return None
    if name == "perspective":
        if mentee.perspective == DIFFERENT and value >= 0.5:
            return "Another team and a different perspective, as you asked"
        if mentee.perspective == LIKE_ME and value >= 0.3:
            return "A path much like yours, as you asked"
    return None


def _reasons(
    mentee: Person,
    mentor: Person,
    components: Sequence[np.float32],
    scaled: np.ndarray,
    labels: Labels | None,
    audience: str = "mentee",
) -> tuple[str, ...]:
    values = [float(value) for value in components]
    adds = [float(value * weight) for value, weight in zip(components, scaled, strict=True)]
    return _ranked_reasons(mentee, mentor, values, adds, labels, audience)


def _ranked_reasons(
    mentee: Person,
    mentor: Person,
    values: Sequence[float],
    adds: Sequence[float],
    labels: Labels | None,
    audience: str = "mentee",
) -> tuple[str, ...]:
    """Up to three reasons from the components (``values``) and what each adds to the score (``adds``)."""
    by_name = dict(zip(COMPONENTS, values, strict=True))
    added = dict(zip(COMPONENTS, adds, strict=True))
    # sorted() is stable and _REASON_ORDER lists the tie order, so equal contributions keep it.
    ranked = sorted(_REASON_ORDER, key=lambda name: -added[name])
    reasons: list[str] = []
    for name in ranked:
        if added[name] <= 0:
            break
        text = _reason(name, mentee, mentor, by_name[name], labels, audience)
        if text:
            reasons.append(text)
            if len(reasons) == 3:
                break
    return tuple(reasons)


# --------------------------------------------------------------------------------------------------------
# Whole cohorts, vectorised
#
# Each set answer becomes a bitmask over its vocabulary (the mentors' keys, sorted), and the number of
# keys a pair shares is popcount(mentor's mask & mentee's mask), for a block of mentors at a time. Bit
# operations rather than matrix products: they are exact by construction and single-threaded, so a busy
# machine cannot stall them the way it stalls BLAS threads waiting on each other.

_BYTE_BITS = np.array([bin(byte).count("1") for byte in range(256)], dtype=np.uint8)


def _bit_count_by_table(words: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Set bits of each element into the uint8 array ``out``, byte by byte through a lookup table."""
    as_bytes = np.ascontiguousarray(words).view(np.uint8).reshape(*words.shape, words.itemsize)
    return np.sum(_BYTE_BITS[as_bytes], axis=-1, dtype=np.uint8, out=out)


# numpy 2 counts bits natively; the table keeps numpy 1.26 (the oldest the project allows) working.
_bit_count = getattr(np, "bitwise_count", _bit_count_by_table)


def _vocabulary(sets: Iterable[frozenset[str]]) -> dict[str, int]:
    return {key: bit for bit, key in enumerate(sorted(set().union(*sets)))}


def _mask_ints(sets: Sequence[frozenset[str]], vocabulary: dict[str, int]) -> list[int]:
    """One Python int per person with bit ``vocabulary[key]`` set for each key chosen (others dropped)."""
    bits = {key: 1 << bit for key, bit in vocabulary.items()}
    # People often give the same answer (a frozenset hashes once): each distinct set is summed once,
    # and a whole cohort's encoding measured several times faster than one generator per person.
    known: dict[frozenset[str], int] = {}
    masks = []
    for chosen in sets:
        mask = known.get(chosen)
        if mask is None:
            mask = known[chosen] = sum(map(bits.get, chosen, itertools.repeat(0, len(chosen))))
        masks.append(mask)
    return masks


def _words(masks: Sequence[int], bits: int) -> np.ndarray:
    """The masks as a people x words array: one byte up to 8 keys, two bytes up to 16, then one uint32
    word up to 32 and 64-bit words past that (a long custom list).

    Two single bytes rather than one uint16: numpy counts the bits of uint8 several times faster than
    those of any wider type (which it does not vectorise), enough to pay for the second AND and sum.
    """
    if bits <= 8:
        dtype, width, count = np.uint8, 8, 1
    elif bits <= 16:
        dtype, width, count = np.uint8, 8, 2
    elif bits <= 32:
        dtype, width, count = np.uint32, 32, 1
    else:
        dtype, width, count = np.uint64, 64, -(-bits // 64)
    if count == 1:
        return np.array(masks, dtype=dtype).reshape(len(masks), 1)
    if bits <= 16:
        # Split with array shifts rather than per person: a cohort's lists measured several times faster.
        whole = np.array(masks, dtype=np.uint16).reshape(len(masks))
        return np.stack([whole & 0xFF, whole >> 8], axis=1).astype(np.uint8)
    full = (1 << width) - 1
    return np.array([[(mask >> (width * w)) & full for w in range(count)] for mask in masks], dtype=dtype).reshape(
        len(masks), count
    )


def _sizes(sets: Sequence[frozenset[str]]) -> np.ndarray:
    return np.fromiter((len(chosen) for chosen in sets), dtype=np.float32, count=len(sets))


class _Positions:
    """Where each person id sits: ``get`` gives every index of an id, so a repeated id is still excluded
    everywhere. One int per person, not a list: a list each for a whole cohort measured as a full
    garbage collection in the middle of matching. Raises nothing.
    """

    def __init__(self, people: Sequence[Person]) -> None:
        ids = [person.id for person in people]
        self.first = dict(zip(reversed(ids), range(len(ids) - 1, -1, -1), strict=True))
        self.more: dict[int, list[int]] = {}
        if len(self.first) != len(ids):
            for index, person_id in enumerate(ids):
                if index != self.first[person_id]:
                    self.more.setdefault(person_id, [self.first[person_id]]).append(index)

    def get(self, person_id: int, default: Sequence[int] = ()) -> Sequence[int]:
        if person_id in self.more:
            return self.more[person_id]
        index = self.first.get(person_id)
        return default if index is None else (index,)

    def keys(self):
        return self.first.keys()

    def __getitem__(self, person_id: int) -> Sequence[int]:
        found = self.get(person_id, None)
        if found is None:
            raise KeyError(person_id)
        return found

    def __contains__(self, person_id: int) -> bool:
        return person_id in self.first


def _positions(people: Sequence[Person]) -> _Positions:
    return _Positions(people)


class MentorRows:
    """Mentors encoded for the vectorised scoring: one row each, in the given order.

    The vocabularies come from the mentors: a mentee's choice no mentor made cannot be shared, and
    still counts in the mentee's own number of choices (those come from the sets, not the masks).
    """

    def __init__(self, people: Sequence[Person]) -> None:
        self.people = list(people)
        self.ids = np.fromiter((p.id for p in people), dtype=np.int64, count=len(people))
        # Team ids become small codes, so that any hashable id (None included) compares like in is_allowed.
        self.team_codes = {team: code for code, team in enumerate(dict.fromkeys(p.team_id for p in people))}
        # int32: comparing int64 codes for every pair measured five times slower.
        self.teams = np.array([self.team_codes[p.team_id] for p in people], dtype=np.int32)
        self.position = _positions(self.people)
        self.vocabularies: dict[str, dict[str, int]] = {}
        self.masks: dict[str, np.ndarray] = {}
        self.sizes: dict[str, np.ndarray] = {}
        for name in ("values", "interests", "experiences"):
            sets = [getattr(p, name) for p in people]
            self.vocabularies[name] = vocabulary = _vocabulary(sets)
            self.masks[name] = _words(_mask_ints(sets, vocabulary), len(vocabulary))
            self.sizes[name] = _sizes(sets)
        offers = [p.skills_offer for p in people]
        self.vocabularies["skills"] = _vocabulary(offers)
        self.masks["skills"] = _words(_mask_ints(offers, self.vocabularies["skills"]), len(self.vocabularies["skills"]))
        self.n_background = self.sizes["interests"] + self.sizes["experiences"]
        formats = [p.formats for p in people]
        self.vocabularies["formats"] = vocabulary = _vocabulary(formats)
        self.offers_written = np.fromiter((WRITTEN in f for f in formats), dtype=bool, count=len(people))
        # Three bits past the formats: [always, no formats, offers written] against the mentee's
        # [no formats, always, written intro]; the AND is non-zero exactly when the formats fit.
        n = len(vocabulary)
        self.masks["formats"] = _words(
            [
                mask | 1 << n | (not chosen) << (n + 1) | (WRITTEN in chosen) << (n + 2)
                for mask, chosen in zip(_mask_ints(formats, vocabulary), formats, strict=True)
            ],
            n + 3,
        )
        self.times = np.fromiter((_time_index(p.time) for p in people), dtype=np.intp, count=len(people))
        self.excluded = [(row, other) for row, person in enumerate(self.people) for other in person.excluded]

    def __len__(self) -> int:
        return len(self.people)

    def fits(self, person: Person) -> bool:
        """Whether this person's answers can be encoded with the current vocabularies. Raises nothing."""
        vocabularies = self.vocabularies
        return (
            person.values <= vocabularies["values"].keys()
            and person.interests <= vocabularies["interests"].keys()
            and person.experiences <= vocabularies["experiences"].keys()
            and person.skills_offer <= vocabularies["skills"].keys()
            and person.formats <= vocabularies["formats"].keys()
        )

    def with_rows(self, changes: Mapping[int, Person]) -> MentorRows:
        """A copy with the people at these rows replaced, re-encoding only their rows.

        Each new person must keep the row's id and ``fits``; the copy leaves this one untouched for
        whoever is still reading it. Raises ValueError otherwise.
        """
        new = copy.copy(self)
        new.people = list(self.people)
        new.team_codes = dict(self.team_codes)
        new.teams = self.teams.copy()
        new.masks = {name: words.copy() for name, words in self.masks.items()}
        new.sizes = {name: sizes.copy() for name, sizes in self.sizes.items()}
        new.offers_written = self.offers_written.copy()
        new.times = self.times.copy()
        vocabularies = self.vocabularies
        for row, person in changes.items():
            if person.id != self.people[row].id or not self.fits(person):
                raise ValueError("Only a person who keeps their row and fits the vocabularies can be replaced.")
            new.people[row] = person
            new.teams[row] = new.team_codes.setdefault(person.team_id, len(new.team_codes))
            for name in ("values", "interests", "experiences"):
                chosen = getattr(person, name)
                new.masks[name][row] = _row_words(chosen, vocabularies[name], new.masks[name])
                new.sizes[name][row] = len(chosen)
            new.masks["skills"][row] = _row_words(person.skills_offer, vocabularies["skills"], new.masks["skills"])
            formats, n = person.formats, len(vocabularies["formats"])
            mask = _mask_ints([formats], vocabularies["formats"])[0]
            mask |= 1 << n | (not formats) << (n + 1) | (WRITTEN in formats) << (n + 2)
            new.masks["formats"][row] = _int_words(mask, new.masks["formats"])
            new.offers_written[row] = WRITTEN in formats
            new.times[row] = _time_index(person.time)
        new.n_background = new.sizes["interests"] + new.sizes["experiences"]
        new.excluded = [(row, other) for row, person in enumerate(new.people) for other in person.excluded]
        return new


def _int_words(mask: int, like: np.ndarray) -> np.ndarray:
    """One mask as a row of words shaped and typed like the rows of ``like``."""
    if like.shape[1] == 1:
        return np.array([mask], dtype=like.dtype)
    width = 8 * like.dtype.itemsize
    full = (1 << width) - 1
    return np.array([(mask >> (width * w)) & full for w in range(like.shape[1])], dtype=like.dtype)


def _row_words(chosen: frozenset[str], vocabulary: dict[str, int], like: np.ndarray) -> np.ndarray:
    return _int_words(_mask_ints([chosen], vocabulary)[0], like)


class MenteeColumns:
    """Mentees encoded for the vectorised scoring against one ``MentorRows``: one column each."""

    def __init__(self, people: Sequence[Person], mentors: MentorRows) -> None:
        vocabularies = mentors.vocabularies
        self.people = list(people)
        self.ids = np.fromiter((p.id for p in people), dtype=np.int64, count=len(people))
        # A team no mentor is in gets -1, which matches no mentor's code.
        self.teams = np.array([mentors.team_codes.get(p.team_id, -1) for p in people], dtype=np.int32)
        self.position = _positions(self.people)
        self.masks: dict[str, np.ndarray] = {}
        self.sizes: dict[str, np.ndarray] = {}
        for name in ("values", "interests", "experiences"):
            sets = [getattr(p, name) for p in people]
            self.masks[name] = _words(_mask_ints(sets, vocabularies[name]), len(vocabularies[name]))
            self.sizes[name] = _sizes(sets)
        grow = [p.skills_grow for p in people]
        self.masks["skills"] = _words(_mask_ints(grow, vocabularies["skills"]), len(vocabularies["skills"]))
        self.n_grow = np.maximum(_sizes(grow), _ONE)
        self.n_background = self.sizes["interests"] + self.sizes["experiences"]
        formats = [p.formats for p in people]
        n = len(vocabularies["formats"])
        self.masks["formats"] = _words(
            [
                mask | (not person.formats) << n | 1 << (n + 1) | (person.start == WRITTEN_INTRO) << (n + 2)
                for mask, person in zip(_mask_ints(formats, vocabularies["formats"]), people, strict=True)
            ],
            n + 3,
        )
        # Words first, so each word is one contiguous row to pair with a block of mentors.
        self.masks = {name: np.ascontiguousarray(words.T) for name, words in self.masks.items()}
        self.written_only = np.fromiter((f == _WRITTEN_ONLY for f in formats), dtype=bool, count=len(people))
        times = np.fromiter((_time_index(p.time) for p in people), dtype=np.intp, count=len(people))
        # Row t is half the time closeness of a mentor with time index t to each mentee.
        self.half_time = np.ascontiguousarray(_HALF_TIME[:, times])
        perspective = [p.perspective for p in people]
        # The perspective is slope x similarity + offset, each step exact in float32: 1 - sim for
        # "different", sim for "like me", 0.5 otherwise. (Arithmetic rather than masked writes, which
        # measured some thirty times slower.)
        self.slope = np.array(
            [-1 if p == DIFFERENT else 1 if p == LIKE_ME else 0 for p in perspective], dtype=np.float32
        )
        self.offset = np.array(
            [1 if p == DIFFERENT else 0 if p == LIKE_ME else 0.5 for p in perspective], dtype=np.float32
        )
        self.excluded = [(other, column) for column, person in enumerate(self.people) for other in person.excluded]

    def __len__(self) -> int:
        return len(self.people)


class _Scratch:
    """Reusable block-sized buffers, so scoring a cohort allocates them once."""

    def __init__(self, rows: int, columns: int) -> None:
        self.shape = (rows, columns)
        self.total, self.a, self.b, self.c = (np.empty(self.shape, dtype=np.float32) for _ in range(4))
        self.blocked, self.other = (np.empty(self.shape, dtype=bool) for _ in range(2))
        self.count, self.more = (np.empty(self.shape, dtype=np.uint8) for _ in range(2))
        self.words: dict[np.dtype, np.ndarray] = {}
        # numpy's minimum and maximum take a fast vectorised loop only when both operands run along
        # memory; against a scalar or a per-row value they measured four to six times slower than an
        # addition. So the floor of 1 is an array of ones, and the per-person floors come ready.
        self.ones = np.ones(self.shape, dtype=np.float32)
        self.row_floor: dict[str, np.ndarray] = {}
        self.column_floor: dict[str, np.ndarray] = {}

    def prepare(self, r: MentorRows, m: MenteeColumns) -> None:
        """Each person's number of choices, at least 1, for the three overlap components.

        max(1, min(a, b)) = min(max(1, a), max(1, b)): the floor is taken once per person, not per pair.
        """
        for name in ("values", "interests", "experiences"):
            self.row_floor[name] = np.maximum(r.sizes[name], _ONE)
            self.column_floor[name] = np.maximum(m.sizes[name], _ONE)

    def smaller(self, name: str, lo: int, hi: int, out: np.ndarray) -> None:
        """Into ``out``: max(1, min(mentor's, mentee's number of choices)) for mentors lo..hi."""
        np.copyto(out, self.row_floor[name][lo:hi, None])
        np.minimum(out, self.column_floor[name][None, :], out=out)

    def shared(self, rows: np.ndarray, columns: np.ndarray, out: np.ndarray) -> None:
        """Into ``out``: the number of bits each mentor row (words) shares with each mentee column."""
        k = rows.shape[0]
        work = self.words.get(rows.dtype)
        if work is None:
            work = self.words[rows.dtype] = np.empty(self.shape, dtype=rows.dtype)
        work, count, more = work[:k], self.count[:k], self.more[:k]
        np.bitwise_and(rows[:, 0, None], columns[0][None, :], out=work)
        _bit_count(work, count)
        for w in range(1, rows.shape[1]):
            np.bitwise_and(rows[:, w, None], columns[w][None, :], out=work)
            np.add(count, _bit_count(work, more), out=count)
        np.copyto(out, count)


def _score_block(r: MentorRows, lo: int, hi: int, m: MenteeColumns, w: np.ndarray, s: _Scratch) -> None:
    """Scores of mentors lo..hi against every mentee into ``s.total``; ``s.blocked`` marks forbidden pairs.

    Every step mirrors ``_components`` and ``_total`` operation for operation; see the module notes.
    """
    k = hi - lo
    total, a, b, c = s.total[:k], s.a[:k], s.b[:k], s.c[:k]
    # values
    s.shared(r.masks["values"][lo:hi], m.masks["values"], a)
    s.smaller("values", lo, hi, c)
    np.divide(a, c, out=a)
    np.multiply(a, w[0], out=total)
    # interests (a keeps the shared count for the perspective)
    s.shared(r.masks["interests"][lo:hi], m.masks["interests"], a)
    s.smaller("interests", lo, hi, c)
    np.divide(a, c, out=c)
    np.multiply(c, w[1], out=c)
    np.add(total, c, out=total)
    # experiences (then a holds the shared background count)
    s.shared(r.masks["experiences"][lo:hi], m.masks["experiences"], b)
    s.smaller("experiences", lo, hi, c)
    np.add(a, b, out=a)
    np.divide(b, c, out=b)
    np.multiply(b, w[2], out=b)
    np.add(total, b, out=total)
    # skills
    s.shared(r.masks["skills"][lo:hi], m.masks["skills"], b)
    np.divide(b, m.n_grow[None, :], out=b)
    np.multiply(b, w[3], out=b)
    np.add(total, b, out=total)
    # logistics
    s.shared(r.masks["formats"][lo:hi], m.masks["formats"], b)
    np.minimum(b, s.ones[:k], out=b)
    np.multiply(b, _HALF, out=b)
    np.take(m.half_time, r.times[lo:hi], axis=0, out=c)
    np.add(b, c, out=b)
    np.multiply(b, w[4], out=b)
    np.add(total, b, out=total)
    # perspective
    np.add(r.n_background[lo:hi, None], m.n_background[None, :], out=c)
    np.subtract(c, a, out=c)
    np.maximum(c, s.ones[:k], out=c)
    np.divide(a, c, out=a)
    np.multiply(a, m.slope[None, :], out=a)
    np.add(a, m.offset[None, :], out=a)
    np.multiply(a, w[5], out=a)
    np.add(total, a, out=total)
    # Rounding half to even, as np.rint (which measured three times slower): for 0 <= x < 2**22,
    # x + 2**23 lands on a float32 whose last place is 1, so IEEE addition rounds it to the nearest
    # whole number, halves to even; taking 2**23 away again is exact. The total is never negative.
    np.add(total, _ROUNDER, out=total)
    np.subtract(total, _ROUNDER, out=total)
    np.clip(total, 0, 100, out=total)
    # Hard constraints other than the sparse ones (the same person, exclusions, forbidden pairs).
    blocked, other = s.blocked[:k], s.other[:k]
    np.equal(r.teams[lo:hi, None], m.teams[None, :], out=blocked)
    np.greater(m.written_only[None, :], r.offers_written[lo:hi, None], out=other)
    np.logical_or(blocked, other, out=blocked)


def _sparse_blocks(
    r: MentorRows, m: MenteeColumns, forbidden: Collection[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """(mentor rows, mentee columns) of pairs that are one person, excluded by either, or forbidden this cycle."""
    rows: list[int] = []
    columns: list[int] = []

    def add(row_list: list[int], column_list: list[int]) -> None:
        for row in row_list:
            for column in column_list:
                rows.append(row)
                columns.append(column)

    # Someone who is both a mentee and a mentor is a handful of pairs, not a comparison per pair.
    for person_id in r.position.keys() & m.position.keys():
        add(r.position.get(person_id), m.position.get(person_id))
    for row, other in r.excluded:
        add([row], m.position.get(other, []))
    for other, column in m.excluded:
        add(r.position.get(other, []), [column])
    for mentee_id, mentor_id in forbidden:
        add(r.position.get(mentor_id, []), m.position.get(mentee_id, []))
    return np.array(rows, dtype=np.intp), np.array(columns, dtype=np.intp)


def gain_matrix(
    mentors: MentorRows,
    mentees: MenteeColumns,
    weights: Weights,
    *,
    forbidden: Collection[tuple[int, int]] = frozenset(),
    progress: Callable[[float], None] | None = None,
    shortlist: Shortlist | None = None,
) -> np.ndarray:
    """Mentors x mentees int8 scores (0-100), -1 where the pair is not allowed (see ``is_allowed``).

    Works through the mentors in blocks so the scratch stays a few megabytes whatever the cohort;
    ``progress`` gets the fraction done about ten times; ``shortlist`` (``portal.matching.flow``) is
    handed each block while it is still in cache. Raises nothing.
    """
    n_rows, n_columns = len(mentors), len(mentees)
    gains = np.empty((n_rows, n_columns), dtype=np.int8)
    if n_rows == 0 or n_columns == 0:
        return gains
    w = scaled_weights(weights)
    step = max(1, min(n_rows, _BLOCK_CELLS // n_columns))
    scratch = _Scratch(step, n_columns)
    scratch.prepare(mentors, mentees)
    for lo in range(0, n_rows, step):
        hi = min(n_rows, lo + step)
        _score_block(mentors, lo, hi, mentees, w, scratch)
        out = gains[lo:hi]
        np.copyto(out, scratch.total[: hi - lo], casting="unsafe")
        # -1 where blocked: (score + 1) x allowed - 1, as arithmetic (a masked write is far slower).
        allowed = np.logical_not(scratch.blocked[: hi - lo], out=scratch.blocked[: hi - lo]).view(np.int8)
        np.add(out, 1, out=out)
        np.multiply(out, allowed, out=out)
        np.subtract(out, 1, out=out)
        if shortlist is not None:
            shortlist.add(lo, out)
        # About ten reports in all: a caller may write each one to the database.
        if progress is not None and (hi == n_rows or (10 * hi) // n_rows > (10 * lo) // n_rows):
            progress(hi / n_rows)
    rows, columns = _sparse_blocks(mentors, mentees, forbidden)
    gains[rows, columns] = -1
    return gains


def score_matrix(
    mentees: Sequence[Person],
    mentors: Sequence[Person],
    weights: Weights = Weights(),
    *,
    forbidden: Collection[tuple[int, int]] = frozenset(),
) -> np.ndarray:
    """Every pair's score at once: a mentees x mentors int array, in the given orders.

    Entry [i, j] equals ``score_pair(mentees[i], mentors[j], weights).score`` when
    ``is_allowed(mentees[i], mentors[j], forbidden=forbidden)``, and -1 otherwise. Raises nothing.
    """
    rows = MentorRows(mentors)
    return gain_matrix(rows, MenteeColumns(mentees, rows), weights, forbidden=forbidden).T


def pair_parts(
    mentors: MentorRows, rows: np.ndarray, mentees: MenteeColumns, columns: np.ndarray, weights: Weights
) -> tuple[list[list[float]], list[list[float]]]:
    """For each pair (rows[k], columns[k]): its six components and what each adds to the score.

    The same float32 operations as ``_score_block`` (and so as ``_components``), on the pairs alone:
    ``explain`` takes them instead of working each pair out in Python. Raises nothing.
    """

    def shared(name: str) -> np.ndarray:
        both = mentors.masks[name][rows] & mentees.masks[name][:, columns].T
        return _bit_count(both, np.empty(both.shape, dtype=np.uint8)).sum(axis=1, dtype=np.uint8).astype(_F32)

    def overlap(name: str, found: np.ndarray) -> np.ndarray:
        smaller = np.maximum(np.minimum(mentors.sizes[name][rows], mentees.sizes[name][columns]), _ONE)
        return found / smaller

    interests, experiences = shared("interests"), shared("experiences")
    logistics = np.minimum(shared("formats"), _ONE) * _HALF + mentees.half_time[mentors.times[rows], columns]
    background = interests + experiences
    either = np.maximum(mentors.n_background[rows] + mentees.n_background[columns] - background, _ONE)
    perspective = background / either * mentees.slope[columns] + mentees.offset[columns]
    values = np.stack(
        [
            overlap("values", shared("values")),
            overlap("interests", interests),
            overlap("experiences", experiences),
            shared("skills") / mentees.n_grow[columns],
            logistics,
            perspective,
        ],
        axis=1,
    )
    return values.tolist(), (values * scaled_weights(weights)[None, :]).tolist()
