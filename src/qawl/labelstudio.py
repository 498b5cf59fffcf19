"""Label Studio tasks <-> Documents, so annotators can correct model output in Label Studio.

Layout of a task (one per document):
- `data`: {"text", "doc_id", "meta"}; the labelling config shows `$text`.
- regions on the text: entities through the `entity` Labels (PERS ORG LOC MISC), statement roles through the
  `role` Labels (CUE SPEAKER CONTENT MEDIUM). Each CUE/SPEAKER/MEDIUM region is linked to its CONTENT region by
  a relation (either direction; one speaker region may serve several contents).
- a statement's `kind` and `speaker_name` are per-region controls of its CONTENT region: the `kind` Choices and
  the `speaker_name` TextArea. Scores travel as the result's `score`.
- region ids written here are `E:<n>` for entities, `S:<statement id>` for contents and
  `S:<statement id>:<role>` for roles, so statement ids survive a round trip; regions drawn in Label Studio
  (random ids) get fresh statement ids `S<n>`.
Offsets are code points, as Label Studio stores them for Text since 1.x (and as qawl does).
"""

from __future__ import annotations

from typing import Any, Iterable
from xml.sax.saxutils import quoteattr

from qawl.checks import schema_problems, span_problems
from qawl.document import ENTITY_LABELS, STATEMENT_KINDS, Document
from qawl.errors import CorpusError
from qawl.labels import ROLES

ENTITY_CONTROL, ROLE_CONTROL, KIND_CONTROL, NAME_CONTROL = "entity", "role", "kind", "speaker_name"
TEXT_OBJECT = "text"
_ROLE_OF_LABEL = {label: label.lower() for label in ROLES}  # CUE -> cue, the Statement field names
_COLOURS = {"PERS": "#e57373", "ORG": "#64b5f6", "LOC": "#81c784", "MISC": "#ffb74d",
            "CUE": "#ba68c8", "SPEAKER": "#f06292", "CONTENT": "#fff176", "MEDIUM": "#4db6ac"}


def label_studio_config() -> str:
    """The labelling config (XML) matching `to_label_studio` / `from_label_studio`."""
    def labels(name: str, values: Iterable[str]) -> str:
        items = "\n".join(f'    <Label value="{v}" background="{_COLOURS[v]}"/>' for v in values)
        return f'  <Labels name="{name}" toName="{TEXT_OBJECT}">\n{items}\n  </Labels>'

    kinds = "\n".join(f'      <Choice value="{k}"/>' for k in STATEMENT_KINDS)
    relations = "\n".join(f'    <Relation value="{r.lower()}"/>' for r in ROLES if r != "CONTENT")
    return f"""<View>
  <Style>.htx-text {{ white-space: pre-wrap; direction: rtl; }}</Style>
  <Header value="$doc_id"/>
{labels(ENTITY_CONTROL, ENTITY_LABELS)}
{labels(ROLE_CONTROL, ROLES)}
  <Relations>
{relations}
  </Relations>
  <Text name="{TEXT_OBJECT}" value="$text" granularity="symbol"/>
  <View visibleWhen="region-selected" whenLabelValue="CONTENT">
    <Header value="Statement (select its CONTENT region)"/>
    <Choices name="{KIND_CONTROL}" toName="{TEXT_OBJECT}" perRegion="true" choice="single">
{kinds}
    </Choices>
    <TextArea name="{NAME_CONTROL}" toName="{TEXT_OBJECT}" perRegion="true" editable="true"
              maxSubmissions="1" placeholder={quoteattr("speaker_name: fullest name of the speaker, or empty")}/>
  </View>
</View>
"""


def _region(rid: str, control: str, span: Any, label: str, score: float | None) -> dict[str, Any]:
    r: dict[str, Any] = {"id": rid, "from_name": control, "to_name": TEXT_OBJECT, "type": "labels",
                         "value": {"start": span.start, "end": span.end, "text": span.text, "labels": [label]}}
    if score is not None:
        r["score"] = float(score)
    return r


def to_task(doc: Document, field: str = "predictions") -> dict[str, Any]:
    """One Label Studio task; `field` is "predictions" (pre-annotations to correct) or "annotations"."""
    if field not in ("predictions", "annotations"):
        raise ValueError(f"field must be 'predictions' or 'annotations', got {field!r}")
    result = [_region(f"E:{i}", ENTITY_CONTROL, e, e.label, e.score) for i, e in enumerate(doc.entities, 1)]
    for s in doc.statements:
        cid = f"S:{s.id}"
        c = s.content
        result.append(_region(cid, ROLE_CONTROL, c, "CONTENT", s.confidence))
        where = {"start": c.start, "end": c.end}
        result.append({"id": cid, "from_name": KIND_CONTROL, "to_name": TEXT_OBJECT, "type": "choices",
                       "value": {**where, "text": c.text, "choices": [s.kind]}})
        if s.speaker_name is not None:
            result.append({"id": cid, "from_name": NAME_CONTROL, "to_name": TEXT_OBJECT, "type": "textarea",
                           "value": {**where, "text": [s.speaker_name]}})
        for role in ("cue", "speaker", "medium"):
            span = getattr(s, role)
            if span is not None:
                rid = f"{cid}:{role}"
                result.append(_region(rid, ROLE_CONTROL, span, role.upper(), None))
                result.append({"from_id": rid, "to_id": cid, "type": "relation", "direction": "right",
                               "labels": [role]})
    body: dict[str, Any] = {"result": result}
    if field == "predictions":
        body["model_version"] = "qawl"
    return {"data": {"text": doc.text, "doc_id": doc.id, "meta": doc.meta}, field: [body]}


def to_label_studio(docs: Iterable[Document], field: str = "predictions") -> list[dict[str, Any]]:
    return [to_task(d, field) for d in docs]


def _chosen_result(task: dict[str, Any]) -> list[dict[str, Any]]:
    """The last annotation that was not cancelled, else the last prediction, else nothing."""
    annotations = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
    chosen = annotations or task.get("predictions") or []
    return list(chosen[-1].get("result") or []) if chosen else []


def _span_dict(text: str, value: dict[str, Any]) -> dict[str, Any]:
    start, end = value.get("start"), value.get("end")
    if not isinstance(start, int) or not isinstance(end, int):
        raise ValueError(f"region without integer start/end: {value!r}")
    span_text = value.get("text")
    # Label Studio stores the selected text; when absent, take it from the document.
    return {"start": start, "end": end, "text": span_text if isinstance(span_text, str) else text[start:end]}


def task_to_record(task: Any) -> dict[str, Any]:
    """A task as an ANNOTATION.md record (checked by the caller); ValueError says what is wrong."""
    if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
        raise ValueError("not a Label Studio task (an object with 'data')")
    data = task["data"]
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("task data has no 'text' string")
    doc_id = data.get("doc_id", task.get("id"))
    if doc_id is None:
        raise ValueError("task has neither data.doc_id nor id")
    regions: dict[str, dict[str, Any]] = {}  # region id -> span dict + label + score
    extras: dict[str, dict[str, Any]] = {}
    links: list[tuple[str, str]] = []
    for r in _chosen_result(task):
        rtype, rid, value = r.get("type"), r.get("id"), r.get("value") or {}
        if rtype == "labels":
            labels = value.get("labels") or []
            if len(labels) != 1:
                raise ValueError(f"region {rid} has labels {labels}; give it exactly one")
            regions[rid] = {**_span_dict(text, value), "label": labels[0], "score": r.get("score")}
        elif rtype == "choices" and r.get("from_name") == KIND_CONTROL:
            extras.setdefault(rid, {})["kind"] = (value.get("choices") or [None])[0]
        elif rtype == "textarea" and r.get("from_name") == NAME_CONTROL:
            typed = value.get("text")
            name = typed[0] if isinstance(typed, list) and typed else typed
            extras.setdefault(rid, {})["speaker_name"] = name.strip() if isinstance(name, str) and name.strip() else None
        elif rtype == "relation":
            links.append((r.get("from_id"), r.get("to_id")))
    entities = sorted(
        ({"start": g["start"], "end": g["end"], "label": g["label"], "text": g["text"],
          **({"score": g["score"]} if g["score"] is not None else {})}
         for g in regions.values() if g["label"] in ENTITY_LABELS),
        key=lambda e: (e["start"], e["end"]))
    unknown = sorted({g["label"] for g in regions.values()} - set(ENTITY_LABELS) - set(ROLES))
    if unknown:
        raise ValueError(f"unknown region labels {unknown}; valid: {', '.join(ENTITY_LABELS + tuple(ROLES))}")
    contents = [rid for rid, g in regions.items() if g["label"] == "CONTENT"]
    roles_of: dict[str, dict[str, str]] = {rid: {} for rid in contents}
    linked: set[str] = set()
    for a, b in links:
        for content, role_region in ((a, b), (b, a)):
            if content in roles_of and role_region in regions and regions[role_region]["label"] in _ROLE_OF_LABEL:
                role = _ROLE_OF_LABEL[regions[role_region]["label"]]
                if role == "content":
                    continue
                if role in roles_of[content] and roles_of[content][role] != role_region:
                    raise ValueError(f"CONTENT region {content} has two {role.upper()} regions linked; keep one")
                roles_of[content][role] = role_region
                linked.add(role_region)
    for rid, g in regions.items():
        if g["label"] in ROLES and g["label"] != "CONTENT" and rid not in linked:
            raise ValueError(f"{g['label']} region {g['text']!r} at {g['start']}:{g['end']} is not linked "
                             "to a CONTENT region; draw a relation to the content it introduces")
    used = {rid[2:] for rid in contents if rid.startswith("S:")}
    counter = 0
    statements = []
    for rid in contents:
        if rid.startswith("S:"):
            sid = rid[2:]
        else:  # drawn in Label Studio: the next free S<n>
            counter += 1
            while f"S{counter}" in used:
                counter += 1
            sid = f"S{counter}"
            used.add(sid)
        g, extra = regions[rid], extras.get(rid, {})
        if not extra.get("kind"):
            raise ValueError(f"CONTENT region {g['text'][:40]!r} at {g['start']}:{g['end']} has no kind; "
                             f"choose one of {', '.join(STATEMENT_KINDS)}")

        def span(role: str) -> dict[str, Any] | None:
            other = roles_of[rid].get(role)
            return None if other is None else {k: regions[other][k] for k in ("start", "end", "text")}

        s = {"id": sid, "content": {k: g[k] for k in ("start", "end", "text")}, "cue": span("cue"),
             "speaker": span("speaker"), "medium": span("medium"),
             "speaker_name": extra.get("speaker_name"), "kind": extra["kind"]}
        if g["score"] is not None:
            s["confidence"] = g["score"]
        statements.append(s)
    meta = data.get("meta") or {}
    return {"id": str(doc_id), "text": text, "entities": entities, "statements": statements, "meta": meta}


def from_label_studio(tasks: Iterable[Any], source: str = "<label-studio>") -> list[Document]:
    """Documents from Label Studio tasks; CorpusError (line = task number) on the first bad task."""
    docs = []
    for n, task in enumerate(tasks, 1):
        try:
            record = task_to_record(task)
        except ValueError as exc:
            raise CorpusError(source, n, str(exc), _task_id(task)) from None
        problems = schema_problems(record)
        doc = None if problems else Document.from_dict(record)
        problems = problems or span_problems(doc)
        if problems:
            raise CorpusError(source, n, "; ".join(problems), record.get("id"))
        docs.append(doc)
    return docs


def _task_id(task: Any) -> str | None:
    if isinstance(task, dict):
        data = task.get("data") if isinstance(task.get("data"), dict) else {}
        found = data.get("doc_id", task.get("id"))
        return None if found is None else str(found)
    return None
