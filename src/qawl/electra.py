"""ELECTRA-style replaced-token detection (Clark et al. 2020, as AraELECTRA) for pretraining qawl's encoder.

    masked ids -> generator (a 1-layer BERT masked LM) -> sampled tokens fill the masked positions
    corrupted ids -> discriminator (the BERT encoder we keep) -> per token: was it replaced?

Masked-LM learns only from the ~15% masked positions; replaced-token detection learns from every position,
which is why it gets further per token at small budgets. The generator shares the discriminator's word
embeddings (and ties its output layer to them), so it costs about a quarter of the discriminator.
The discriminator is a plain `BertModel`: the exported encoder loads wherever a masked-LM one did.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers import BertConfig, BertForMaskedLM, BertModel


def generator_config(discriminator: BertConfig, num_layers: int) -> BertConfig:
    """The discriminator's config with fewer layers: same width, so the word embeddings can be shared."""
    config = BertConfig.from_dict(discriminator.to_dict())
    config.num_hidden_layers = num_layers
    return config


class ElectraPretrainer(nn.Module):
    """forward(masked input ids, labels) -> loss; `last` holds the step's parts (tensors) for logging."""

    def __init__(self, discriminator: BertModel, generator_layers: int = 1, disc_weight: float = 50.0):
        super().__init__()
        self.discriminator = discriminator
        self.generator = BertForMaskedLM(generator_config(discriminator.config, generator_layers))
        shared = discriminator.embeddings.word_embeddings
        self.generator.bert.embeddings.word_embeddings = shared
        self.generator.cls.predictions.decoder.weight = shared.weight
        h = discriminator.config.hidden_size
        self.head = nn.Sequential(nn.Linear(h, h), nn.GELU(), nn.Linear(h, 1))
        self.disc_weight = disc_weight  # the paper's 50: the detection loss per token is much smaller
        self.last: dict[str, torch.Tensor] = {}  # detached: read (a device sync) only when logged

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        masked = labels != -100
        hidden = self.generator.bert(input_ids=input_ids).last_hidden_state
        gen_logits = self.generator.cls(hidden[masked]).float()  # output layer on masked positions only
        gen_loss = F.cross_entropy(gen_logits, labels[masked])
        with torch.no_grad():  # sampling is not differentiated (the generator learns from its own loss)
            sampled = torch.multinomial(F.softmax(gen_logits, dim=-1), 1).squeeze(-1)
        corrupted = input_ids.clone()
        corrupted[masked] = sampled
        original = torch.where(masked, labels, input_ids)
        replaced = (corrupted != original).float()  # a sample equal to the original counts as original
        disc_logits = self.head(self.discriminator(input_ids=corrupted).last_hidden_state).squeeze(-1).float()
        disc_loss = F.binary_cross_entropy_with_logits(disc_logits, replaced)
        with torch.no_grad():
            predicted = disc_logits > 0
            self.last = {"gen_loss": gen_loss.detach(), "disc_loss": disc_loss.detach(),
                         "replaced": replaced.sum(), "predicted": predicted.sum().float(),
                         "true_positives": (predicted & (replaced > 0)).sum().float()}
        return gen_loss + self.disc_weight * disc_loss


def detection_f1(parts: dict[str, float]) -> float:
    """F1 of the 'replaced' class from summed counts (replaced, predicted, true_positives)."""
    denom = parts["replaced"] + parts["predicted"]
    return 2 * parts["true_positives"] / denom if denom else 0.0
