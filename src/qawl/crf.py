"""A linear-chain CRF over BIO tags: learned transition scores on top of the token heads' emissions.

Why: with a small encoder the token heads alone often tag the second word of a name B- again ("كوفي/B
عنان/B" instead of B I), which strict span scoring counts as two wrong entities. Transition scores learned
jointly with the heads make such a path unlikely. The IOB2 constraint (I-X only after B-X or I-X) is applied
as a hard mask in training and decoding alike, so the CRF's normalizer sums over valid paths only. One
exception: a training window may start inside a span (its first labelled token is I-), so the likelihood
lets a path start with I-; decoding, which runs over whole documents, does not.

Training: `nll(emissions, tags, mask)`; decoding: `qawl.decode.viterbi_layers` with `scores()`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from qawl.labels import allowed_transition

NEG = -1e4  # "impossible" in log space; finite so that gradients stay finite


class BioCRF(nn.Module):
    def __init__(self, labels: list[str]):
        super().__init__()
        n = len(labels)
        self.transitions = nn.Parameter(torch.zeros(n, n))  # (from, to)
        self.start = nn.Parameter(torch.zeros(n))
        self.end = nn.Parameter(torch.zeros(n))
        allowed = torch.tensor([[allowed_transition(a, b) for b in labels] for a in labels])
        self.register_buffer("trans_mask", torch.where(allowed, 0.0, NEG), persistent=False)
        self.register_buffer("start_mask", torch.tensor([NEG if l.startswith("I") else 0.0 for l in labels]),
                             persistent=False)

    def _trans(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.transitions + self.trans_mask, self.start + self.start_mask

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Summed negative log-likelihood of the gold paths. emissions (B, T, n); tags (B, T); mask (B, T)
        true on the labelled positions, which must be contiguous in each row (rows with none are skipped)."""
        keep = mask.any(dim=1)
        if not keep.any():  # zero, yet touching every parameter: DDP expects gradients for all of them
            return (emissions.sum() + self.transitions.sum() + self.start.sum() + self.end.sum()) * 0.0
        emissions, tags, mask = emissions[keep].float(), tags[keep], mask[keep]
        # left-align each row's labelled run so that step 0 is its first labelled token
        first = mask.float().argmax(dim=1)
        lengths = mask.sum(dim=1)
        B, T, n = emissions.shape
        idx = (first[:, None] + torch.arange(T, device=mask.device)[None, :]).clamp(max=T - 1)
        emissions = emissions.gather(1, idx[:, :, None].expand(B, T, n))
        tags = tags.gather(1, idx).clamp(min=0)
        steps = torch.arange(T, device=mask.device)[None, :] < lengths[:, None]  # (B, T)
        trans = self.transitions + self.trans_mask
        start = self.start  # no start constraint: windows can begin inside a span
        rows = torch.arange(B, device=mask.device)

        # score of the gold path
        gold = start[tags[:, 0]] + emissions[rows, 0, tags[:, 0]]
        step_scores = trans[tags[:, :-1], tags[:, 1:]] + emissions[:, 1:].gather(2, tags[:, 1:, None])[:, :, 0]
        gold = gold + (step_scores * steps[:, 1:]).sum(dim=1)
        last = tags[rows, lengths - 1]
        gold = gold + self.end[last]

        # log partition over valid paths (forward algorithm)
        alpha = start[None, :] + emissions[:, 0]  # (B, n)
        for t in range(1, T):
            nxt = torch.logsumexp(alpha[:, :, None] + trans[None], dim=1) + emissions[:, t]
            alpha = torch.where(steps[:, t, None], nxt, alpha)
        log_z = torch.logsumexp(alpha + self.end[None, :], dim=1)
        return (log_z - gold).sum()

    def scores(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(transitions (n, n), start (n,), end (n,)) for decoding, constraint included."""
        trans, start = self._trans()
        return (trans.detach().float().cpu().numpy(), start.detach().float().cpu().numpy(),
                self.end.detach().float().cpu().numpy())
