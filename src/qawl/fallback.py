"""Rules as a fallback beside the model: the model's statements come first, and the rule-based reference
(`qawl.baseline`) fills in what the model left out — a speaker the model did not find for a content both
agree on, and statements whose content the model missed entirely.

Statements that come from the rules carry `RULE_CONFIDENCE`; `speaker_name` is resolved again with the
model's entities, and speakerless statements (وأضاف) take the name of the statement before them.
"""

from __future__ import annotations

from dataclasses import replace

from qawl.document import Entity, Span, Statement
from qawl.link import NameResolver

RULE_CONFIDENCE = 0.5  # no calibrated score exists for a rule; below most model statements
MIN_OVERLAP = 0.5  # shared characters over the shorter content: "the same statement"


def _overlap(a: Span, b: Span) -> float:
    shared = min(a.end, b.end) - max(a.start, b.start)
    return max(0, shared) / max(1, min(a.end - a.start, b.end - b.start))


def merge_rule_statements(text: str, entities: list[Entity], model: list[Statement], rules: list[Statement],
                          anonymous_heads: tuple[str, ...] = ()) -> list[Statement]:
    resolver = NameResolver(text, entities, anonymous_heads)
    merged: list[Statement] = []
    used: set[int] = set()
    for m in model:
        best = max(range(len(rules)), key=lambda i: _overlap(m.content, rules[i].content), default=None)
        if best is not None and _overlap(m.content, rules[best].content) >= MIN_OVERLAP:
            used.add(best)
            r = rules[best]
            if m.speaker is None and r.speaker is not None:
                m = replace(m, speaker=r.speaker, cue=m.cue or r.cue)
        merged.append(m)
    for i, r in enumerate(rules):
        if i not in used and all(_overlap(r.content, m.content) < MIN_OVERLAP for m in model):
            merged.append(replace(r, confidence=RULE_CONFIDENCE))
    merged.sort(key=lambda s: (s.content.start, -s.content.end))
    out, previous = [], None
    for n, s in enumerate(merged):
        name = resolver.resolve(s.speaker) if s.speaker is not None else previous
        out.append(replace(s, id=f"S{n + 1}", speaker_name=name))
        previous = name
    return out
