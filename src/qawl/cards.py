"""Model cards (README.md in a model directory), written from the run's own logs and reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA_TERMS = """\
- Raw text: `news_msa.txt.gz` (67,133 Modern Standard Arabic news documents, 16.7M words), the union of the
  ANT corpus v2.1 and v1.1 (Chouigui et al.; Apache-2.0 with a citation requirement) and SaudiNewsNet
  (Alhagri; CC BY-NC-SA 4.0). **Use of this model is limited to non-commercial research** by the
  SaudiNewsNet terms."""

FINETUNE_TERMS = DATA_TERMS + """
- ANERcorp (Benajiba et al. 2007) in the CAMeL Lab train/test split (Obeid et al. 2020): free for research;
  cite both.
- The annotated quote corpus (`quotes/train.jsonl`, `quotes/dev.jsonl`): articles from BBC Arabic, CNN Arabic,
  France24, Sky News Arabia, Al Arabiya (ANT corpus), Jawhara FM (ANT) and Saudi newspapers (SaudiNewsNet),
  under the terms of those sources: non-commercial research use."""


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def loss_curve(log: list[dict[str, Any]], png: Path, title: str, ylabel: str = "masked-LM cross-entropy") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = [(r["step"], r["loss"]) for r in log if "loss" in r]
    held = [(r["step"], r["heldout_loss"]) for r in log if "heldout_loss" in r]
    fig, ax = plt.subplots(figsize=(7, 4))
    if train:
        ax.plot(*zip(*train), label="training loss", alpha=0.6)
    if held:
        ax.plot(*zip(*held), "o-", label="held-out loss")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


def encoder_card(directory: Path, run_dir: Path, cfg: dict[str, Any], state: dict[str, Any],
                 tokenizer_report: dict[str, Any]) -> str:
    """The card of an exported encoder; a run that continued another encoder (`init_encoder`) also reports
    that encoder's own pretraining, read from the `pretrain_state.json` and `pretrain_config.yaml` it carries."""
    import yaml

    electra = cfg.get("objective", "mlm") == "electra"
    log = read_jsonl(run_dir / "log.jsonl")
    loss_curve(log, directory / "loss_curve.png", f"{directory.name} pretraining",
               "generator MLM + 50 x detection loss" if electra else "masked-LM cross-entropy")
    (directory / "pretrain_state.json").write_text(json.dumps(state, indent=2) + "\n")
    earlier = None
    if cfg.get("init_encoder"):
        init = Path(cfg["init_encoder"])
        if (init / "pretrain_state.json").exists() and (init / "pretrain_config.yaml").exists():
            earlier = (yaml.safe_load((init / "pretrain_config.yaml").read_text(encoding="utf-8")),
                       json.loads((init / "pretrain_state.json").read_text()))
    m = json.loads((directory / "config.json").read_text())
    held = [r for r in log if "heldout_loss" in r]
    speed = [r["tokens_per_s"] for r in log if "tokens_per_s" in r]
    threads = cfg.get("num_threads") or "default"
    objective = "ELECTRA replaced-token detection" if electra else "whole-word masked-LM"
    how = (f"{objective}, continuing `{cfg['init_encoder']}`" if cfg.get("init_encoder") else
           f"{objective}, from scratch")
    lines = [
        "---", "language: ar", "license: other", "library_name: transformers",
        f"tags: [bert, {'electra' if electra else 'fill-mask'}, arabic]", "---",
        f"# {directory.name}",
        "",
        f"A small AraBERT-style BERT encoder pretrained by qawl on CPU ({how}).",
        "It is the encoder behind `models/qawl-small`. "
        + ("Load it with `transformers.BertModel` (the replaced-token detector; no masked-LM head);" if electra
           else "Load it with `transformers.BertForMaskedLM` or `BertModel`;"),
        "normalize input as qawl does (`normalizer.json`: tatweel and diacritics removed, spaces around punctuation",
        "and digits, AraBERT v0.2 style) — `qawl.normalize.normalize` does it and keeps an offset map.",
        "",
        "| | |", "|---|---|",
        (f"| layers / hidden / heads / FFN | {m['num_hidden_layers']} / {m['hidden_size']} / "
         f"{m['num_attention_heads']} / {m['intermediate_size']} |"),
        f"| max positions | {m['max_position_embeddings']} |",
        (f"| vocabulary | {tokenizer_report.get('vocab_size')} WordPiece (held-out: "
         f"{tokenizer_report.get('subwords_per_word')} subwords/word, unknown rate "
         f"{tokenizer_report.get('unknown_rate')}) |"),
    ]
    if earlier:
        ecfg, estate = earlier
        lines.append(f"| stage 1: whole-word masked-LM | {estate['step']} steps x {ecfg['batch_size']} x "
                     f"{ecfg['seq_len']}, {estate['tokens']:,} tokens, peak lr {ecfg['lr']}; held-out MLM loss "
                     f"{estate['heldout_loss_initial']:.3f} → {estate['heldout_loss_final']:.3f} |")
    stage = "stage 2: " if earlier else ""
    lines += [
        f"| {stage}objective | {objective}, whole-word masking {cfg['mask_prob']:.0%}"
        + (f"; generator: {cfg['generator_layers']} layer(s) sharing the word embeddings, detection loss "
           f"weight {cfg['disc_weight']} |" if electra else "; output layer on masked positions only |"),
        f"| {stage}steps x batch x sequence | {state['step']} x {cfg['batch_size']} x {cfg['seq_len']} |",
        f"| {stage}tokens seen | {state['tokens']:,} |",
        f"| optimiser | AdamW, peak lr {cfg['lr']}, {cfg['warmup_steps']} warm-up steps, linear decay |",
        f"| hardware | CPU, {threads} thread(s), {sum(speed) / max(len(speed), 1):,.0f} tokens/s on average |",
    ]
    if held:
        first, last = held[0], held[-1]
        lines += ["", "## Held-out loss",
                  (f"On {cfg['heldout_sequences']} sequences of the {cfg['heldout_percent']:g}% held-out documents "
                   "(same masks, and for ELECTRA the same sampling seed, at every evaluation):"), ""]
        if electra:
            lines += ["| | generator MLM loss | detection loss | detection F1 (replaced tokens) |",
                      "|---|---:|---:|---:|"]
            lines += [f"| {name} (step {r['step']}) | {r['heldout_gen_loss']:.3f} | {r['heldout_disc_loss']:.4f} | "
                      f"{100 * r['heldout_detection_f1']:.1f} |" for name, r in (("start", first), ("end", last))]
        else:
            lines += ["| | loss | perplexity |", "|---|---:|---:|",
                      f"| start (step {first['step']}) | {first['heldout_loss']:.3f} | {first['heldout_ppl']:,.0f} |",
                      f"| end (step {last['step']}) | {last['heldout_loss']:.3f} | {last['heldout_ppl']:,.1f} |"]
        lines += ["", "![loss curve](loss_curve.png)"]
    rebuild = ["python scripts/train_tokenizer.py --config configs/tokenizer.yaml",
               "python scripts/pretrain.py --config configs/pretrain-small.yaml      # resumable"]
    if electra:
        rebuild += ["python scripts/pretrain.py --config configs/pretrain-small.yaml --export runs/encoder-mlm",
                    "python scripts/pretrain.py --config configs/pretrain-electra.yaml   # resumable",
                    "python scripts/pretrain.py --config configs/pretrain-electra.yaml --export models/qawl-encoder-small"]
    else:
        rebuild += ["python scripts/pretrain.py --config configs/pretrain-small.yaml --export models/qawl-encoder-small"]
    total = state["tokens"] + (earlier[1]["tokens"] if earlier else 0)
    lines += [
        "", "## Data and terms", "", DATA_TERMS, "",
        "## Rebuild", "", "```", *rebuild, "```",
        "", "## Limitations", "",
        f"Pretrained on about {total / 1e6:.0f}M tokens of MSA news on a 2-core CPU: far less than AraBERT or",
        "CAMeLBERT (billions of words on TPUs/GPUs). Dialectal Arabic, social media text and other domains are out",
        "of its training distribution.",
    ]
    return "\n".join(lines) + "\n"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def _ci(d: dict[str, Any], key: str = "f1") -> str:
    ci = d.get(f"{key}_ci") if key != "accuracy" else d.get("ci")
    value = d.get(key)
    return f"{_pct(value)} [{_pct(ci[0])}, {_pct(ci[1])}]" if ci else _pct(value)


def entity_rows(report: dict[str, Any]) -> list[str]:
    s = report["entities"]["seqeval"]
    rows = [f"| micro | {_pct(s['micro']['precision'])} | {_pct(s['micro']['recall'])} | {_ci(s['micro'])} |"]
    for label, d in s["per_type"].items():
        rows.append(f"| {label} | {_pct(d['precision'])} | {_pct(d['recall'])} | {_ci(d)} |")
    return rows


def statement_rows(report: dict[str, Any]) -> list[str]:
    st = report["statements"]
    return [
        f"| content overlap P / R / F1 | {_pct(st['content_overlap']['precision'])} / "
        f"{_pct(st['content_overlap']['recall'])} / {_ci(st['content_overlap'])} |",
        f"| content exact F1 | {_ci(st['content_exact'])} |",
        f"| speaker accuracy (matched) | {_ci(st['speaker_accuracy'], 'accuracy')} |",
        f"| speaker_name exact accuracy | {_ci(st['speaker_name_accuracy'], 'accuracy')} |",
        f"| cue accuracy | {_ci(st['cue_accuracy'], 'accuracy')} |",
        f"| medium accuracy | {_ci(st['medium_accuracy'], 'accuracy')} |",
        f"| whole statement F1 | {_ci(st['statement'])} |",
    ]


def vector_kind(source: dict[str, Any]) -> str:
    """How a word-vector table was trained, from its config.json "source" (scripts/train_word_vectors.py;
    tables from before the `skipgram` option were fastText CBOW, gensim's default)."""
    if source.get("max_n", 5) == 0:
        return "word2vec " + ("skip-gram" if source.get("skipgram") else "CBOW")
    grams = f"{source.get('min_n', 2)}-{source.get('max_n', 5)}"
    return f"fastText {'skip-gram' if source.get('skipgram') else 'CBOW'} ({grams} character n-grams)"


def _word_feature_lines(model_dir: Path, config: dict[str, Any]) -> list[str]:
    wv = config.get("qawl_word_vectors")
    if not wv:
        return []
    meta = json.loads((model_dir / "wordvec" / "config.json").read_text(encoding="utf-8"))
    report = meta.get("source", {}).get("report", {})
    coverage = report.get("token_coverage_of_exported")
    return [
        (f"- Word features: {wv['size']:,} static {vector_kind(meta.get('source', {}))} vectors of dimension "
         f"{wv['dim']} (`wordvec/`, int8),"),
        f"  trained on the raw text below ({report.get('corpus_words', 0):,} words; the table covers "
        + (f"{coverage:.1%} of word tokens" if coverage else "the most frequent words")
        + "), `scripts/train_word_vectors.py --config configs/wordvec.yaml`;",
        "  each subword's embedding gets its word's vector through a learned projection (`qawl/model.py`).",
    ]


def finetuned_card(model_dir: Path, reports: dict[str, dict[str, Any]], commands: dict[str, str],
                   scores: dict[str, Any], ablation: dict[str, dict[str, Any]] | None = None,
                   notes: list[str] = ()) -> str:
    """reports: 'anercorp_test' and 'dev' results dicts (qawl evaluate's report.json)."""
    history = scores.get("history", [])
    selected = scores.get("selected_epoch", {})
    minutes = (history[-1]["seconds"] / 60) if history else None
    config = json.loads((model_dir / "config.json").read_text())
    lines = [
        "---", "language: ar", "license: other", "library_name: qawl",
        "tags: [token-classification, ner, quote-attribution, arabic]", "---",
        "# qawl-small", "",
        "Named entities (PERS, ORG, LOC, MISC) and quote attribution (who said what: cue, speaker, content, medium)",
        "for Arabic news, in one forward pass of a small BERT encoder (`qawl-encoder-small`, "
        f"{config['num_hidden_layers']} layers, hidden {config['hidden_size']})"
        + (f", a width-{config['qawl_local_conv']} convolution over its output," if config.get("qawl_local_conv")
           else "") + " with three token heads and a",
        "learned span-pair linker. Use it through qawl: `qawl extract --model models/qawl-small article.txt` or",
        "`Extractor.load('models/qawl-small')`.", "",
        "## Training", "",
        "- Data: ANERcorp train (CAMeL split; 10% of its sentences held out for model selection; entities only) and",
        "  the annotated quote corpus `quotes/train.jsonl` (entities and statements). Model selection on",
        "  `quotes/dev.jsonl` and the ANERcorp held-out part (mean of entity, content and statement F1).",
    ] + _word_feature_lines(model_dir, config) + [
        f"- Recipe: `configs/qawl-small.yaml`; best epoch {selected.get('epoch')} (step {selected.get('step')}); "
        + (f"fine-tuning took {minutes:.0f} minutes on this project's 2-core CPU." if minutes else ""),
        "",
        "## How statements are produced", "",
        "The model's statements are combined with those of the rule-based reference (`qawl.baseline`,",
        "`qawl/fallback.py`): every rule statement is kept (its content precision is high) and takes the model's",
        "speaker mention where it has none, if that mention stands in the cue's sentence, outside the content and",
        "not after a preposition; a model statement is",
        "added when no rule statement covers it, its cue stands in its content's paragraph and its confidence",
        f"is at least {config.get('qawl_link', {}).get('model_min_confidence', 0.6)} (chosen on dev),",
        "and `speaker_name` is resolved with the model's entities. `--no-rule-fallback` gives the model alone;",
        "both are scored below.",
        "",
        "## Scores", "",
        "All figures below come from `qawl evaluate` (95% bootstrap intervals over documents in brackets).", "",
    ]
    if "anercorp_test" in reports:
        lines += ["### ANERcorp test (seqeval strict IOB2, token level)", "",
                  f"`{commands.get('anercorp_test', '')}`", "",
                  "| type | precision | recall | F1 |", "|---|---:|---:|---:|"] + entity_rows(reports["anercorp_test"])
        lines += ["", "Published references on the same split: AraBERT v0.2-base 83.7, CAMeLBERT-MSA 82.4",
                  "(BERT-base models pretrained on billions of words)."]
    if "dev" in reports:
        lines += ["", "### Statements on quotes/dev.jsonl (dev set: used for model selection)", "",
                  f"`{commands.get('dev', '')}`", "", "| metric | value |", "|---|---:|"] + statement_rows(reports["dev"])
        lines += ["", "Entities on the same dev set:", "", "| type | precision | recall | F1 |", "|---|---:|---:|---:|"] \
            + entity_rows(reports["dev"])
    if ablation:
        lines += ["", "### Ablations", "",
                  "The same fine-tuning from a randomly initialised encoder (`configs/qawl-small-noprt.yaml`), each",
                  "with and without the rule fallback, beside other rows named in the table (all scored by the",
                  "same code):", "",
                  "| model | ANERcorp test F1 | dev content F1 | dev statement F1 | dev speaker accuracy |",
                  "|---|---:|---:|---:|---:|"]
        for name, reps in ablation.items():
            a, d = reps.get("anercorp_test"), reps.get("dev")
            lines.append(
                f"| {name} | {_pct(a['entities']['seqeval']['micro']['f1']) if a else '–'} | "
                f"{_pct(d['statements']['content_overlap']['f1']) if d else '–'} | "
                f"{_pct(d['statements']['statement']['f1']) if d else '–'} | "
                f"{_pct(d['statements']['speaker_accuracy']['accuracy']) if d else '–'} |")
    for note in notes:  # one paragraph each
        lines += ["", note]
    lines += [
        "", "## Data and terms", "", FINETUNE_TERMS, "",
        "## Known limitations", "",
        "- Modern Standard Arabic news only: dialects, social media and transcribed speech are out of domain.",
        "- The encoder saw only millions of tokens in pretraining; rare names and long-distance attributions",
        "  suffer most. A larger encoder (e.g. a local AraBERT copy via `encoder:` in the config) should do better.",
        "- `speaker_name` is resolved by rules over the predicted entities (fullest PERS/ORG name containing the",
        "  mention; titles followed by a name; continuations such as «وأضاف» take the previous speaker).",
        "- Statements nested in another statement's content are covered by one extra layer only; a third level is lost.",
        "- Contents are contiguous spans; a quote interrupted by its attribution yields two statements.",
    ]
    return "\n".join(lines) + "\n"
