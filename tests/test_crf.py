"""Learned BIO transitions: the CRF likelihood and Viterbi decoding against brute force, and a tiny model."""

import itertools

import numpy as np
import torch

from qawl.crf import BioCRF
from qawl.decode import viterbi_layers
from qawl.labels import ROLE_TAGS, allowed_transition
from qawl.pipeline import Extractor
from tiny import annotated_article, build_tiny_model

LABELS = ROLE_TAGS  # O B I: small enough to enumerate every path


def valid_paths(T: int, may_start_inside: bool = False) -> list[tuple[int, ...]]:
    return [p for p in itertools.product(range(len(LABELS)), repeat=T)
            if (may_start_inside or not LABELS[p[0]].startswith("I"))
            and all(allowed_transition(LABELS[a], LABELS[b]) for a, b in zip(p, p[1:]))]


def path_score(crf: BioCRF, emissions: torch.Tensor, path: tuple[int, ...]) -> torch.Tensor:
    s = crf.start[path[0]] + emissions[0, path[0]] + crf.end[path[-1]]
    for t in range(1, len(path)):
        s = s + crf.transitions[path[t - 1], path[t]] + emissions[t, path[t]]
    return s


def random_crf(seed: int) -> BioCRF:
    torch.manual_seed(seed)
    crf = BioCRF(LABELS)
    with torch.no_grad():
        for p in crf.parameters():
            p.normal_()
    return crf


def test_nll_is_minus_log_probability_over_valid_paths():
    """Training windows can start inside a span, so the likelihood admits paths that start with I-."""
    crf = random_crf(0)
    emissions = torch.randn(2, 7, len(LABELS))
    # row 0: positions 1..4 labelled ([CLS] and padding around them); row 1: positions 1..5
    tags = torch.full((2, 7), -100)
    tags[0, 1:5] = torch.tensor([2, 2, 0, 1])  # a window cut through a span: it starts with I
    tags[1, 1:6] = torch.tensor([0, 1, 2, 2, 0])
    nll = crf.nll(emissions, tags, tags != -100)
    expected = 0.0
    for b, (lo, hi) in enumerate([(1, 5), (1, 6)]):
        em = emissions[b, lo:hi]
        log_z = torch.logsumexp(torch.stack([path_score(crf, em, p) for p in valid_paths(hi - lo, True)]), 0)
        expected = expected + log_z - path_score(crf, em, tuple(tags[b, lo:hi].tolist()))
    assert torch.allclose(nll, expected, atol=1e-4)
    # an unlabelled row (a CoNLL window has no statement roles) adds nothing
    none = torch.full((1, 7), -100)
    assert crf.nll(emissions[:1], none, none != -100).item() == 0.0


def test_viterbi_with_learned_transitions_finds_the_best_valid_path():
    crf = random_crf(1)
    lp = torch.log_softmax(torch.randn(3, 6, len(LABELS)), dim=-1)
    trans, start, end = crf.scores()
    best = viterbi_layers(lp.numpy(), LABELS, (np.stack([trans] * 3), np.stack([start] * 3), np.stack([end] * 3)))
    for layer in range(3):
        with torch.no_grad():
            scores = {p: float(path_score(crf, lp[layer], p)) for p in valid_paths(6)}
        assert np.isclose(scores[tuple(best[layer])], max(scores.values()), atol=1e-4)


def test_tiny_model_with_crf_trains_saves_and_decodes_with_its_transitions(tmp_path):
    torch.set_num_threads(1)
    model_dir = build_tiny_model(tmp_path / "m", epochs=3, crf="true")
    extractor = Extractor.load(model_dir)
    assert extractor.model.has_crf
    ner, roles = extractor.model.decoding_scores()
    assert ner[0].shape == (1, 9, 9) and roles[0].shape == (5, 3, 3)
    assert np.abs(ner[0][np.isfinite(ner[0]) & (ner[0] > -1e3)]).sum() > 0  # trained away from zero
    doc = annotated_article()
    assert extractor(doc.text).to_dict() == Extractor.load(model_dir)(doc.text).to_dict()


def test_documents_decoded_together_get_the_tags_they_get_alone():
    """The chunk-wide padded Viterbi pass must not let documents of different lengths affect each other."""
    from qawl.decode import decode_tags

    rng = np.random.default_rng(5)
    docs = [rng.normal(size=(T, 2, len(LABELS))).astype(np.float32) * 3 for T in (7, 1, 12, 4)]
    crf = random_crf(2).scores()
    for scores in (None, tuple(np.stack([a, a]) for a in crf)):
        together = decode_tags(docs, LABELS, scores)
        for doc, (tags, probs) in zip(docs, together):
            alone_tags, alone_probs = decode_tags([doc], LABELS, scores)[0]
            assert tags.shape == (2, doc.shape[0])
            assert np.array_equal(tags, alone_tags) and np.allclose(probs, alone_probs)
        # decoded in bounded groups (every document alone, then three and one) gives the same as in one pass
        for cells in (1, 2 * 2 * 12 * len(LABELS)):
            for (tags, probs), (g_tags, g_probs) in zip(together, decode_tags(docs, LABELS, scores, max_cells=cells)):
                assert np.array_equal(tags, g_tags) and np.allclose(probs, g_probs)


def test_marginals_match_brute_force_over_valid_paths():
    """Span confidences with a CRF are its tag marginals: checked by enumerating every valid path."""
    from qawl.decode import crf_marginals

    crf = random_crf(3)
    trans, start, end = crf.scores()
    lp = np.log(np.random.default_rng(4).dirichlet(np.ones(len(LABELS)), size=(2, 5))).astype(np.float32)
    lengths = np.array([5, 3])
    marg = crf_marginals(lp, LABELS, (np.stack([trans] * 2), np.stack([start] * 2), np.stack([end] * 2)), lengths)
    with torch.no_grad():
        for layer, T in enumerate(lengths):
            em = torch.from_numpy(lp[layer, :T])
            paths = valid_paths(int(T))
            weights = torch.softmax(torch.stack([path_score(crf, em, p) for p in paths]), 0).numpy()
            expected = np.zeros((T, len(LABELS)))
            for w, p in zip(weights, paths):
                expected[np.arange(T), p] += w
            assert np.allclose(marg[layer, :T], expected, atol=1e-4)


def test_marginals_stay_exact_over_long_documents():
    """Thousands of tokens: the scaled recursions neither underflow nor drift from a float64 log-space
    forward-backward."""
    from qawl.decode import crf_marginals

    rng = np.random.default_rng(5)
    L, T, n = 3, 3000, len(LABELS)
    lp = torch.log_softmax(torch.from_numpy(rng.normal(size=(L, T, n)) * 6), dim=-1)
    trans, start, end = (torch.from_numpy(a).double() for a in random_crf(6).scores())
    lengths = np.array([T, 1700, 1])
    marg = crf_marginals(lp.float().numpy(), LABELS, tuple(np.stack([a.numpy()] * L) for a in (trans, start, end)),
                         lengths)
    for layer, length in enumerate(lengths):
        em = lp[layer, :length]
        alpha, beta = [em[0] + start], [end]
        for t in range(1, length):
            alpha.append(torch.logsumexp(alpha[-1][:, None] + trans, 0) + em[t])
        for t in range(length - 2, -1, -1):
            beta.insert(0, torch.logsumexp(trans + (em[t + 1] + beta[0])[None, :], 1))
        logp = torch.stack(alpha) + torch.stack(beta)
        expected = torch.softmax(logp, dim=-1).numpy()
        assert np.allclose(marg[layer, :length], expected, atol=1e-5)
