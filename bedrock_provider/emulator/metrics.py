"""Synthetic training and validation metrics, shaped like the CSVs Bedrock writes.

The curves are deterministic per seed (the training data, model and hyperparameters), so the same
dataset trained the same way gives the same numbers, and a metric gate on them passes or fails for a
reason. The final losses can be pinned so a quality gate downstream passes or fails on purpose.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

TRAINING_COLUMNS = ("step_number", "epoch_number", "training_loss", "perplexity")
VALIDATION_COLUMNS = ("step_number", "epoch_number", "validation_loss", "validation_perplexity")

# One step per batch, as training runs; the cap keeps a huge dataset's CSV to a readable size.
MAX_STEPS_PER_EPOCH = 100_000
# Validation runs a few times per epoch rather than every step, as evaluation is costly.
VALIDATIONS_PER_EPOCH = 4


@dataclass(frozen=True)
class Metrics:
    training_rows: list[tuple[int, int, float, float]]
    validation_rows: list[tuple[int, int, float, float]]
    final_training_loss: float
    final_validation_loss: float | None

    def training_csv(self) -> bytes:
        return _csv(TRAINING_COLUMNS, self.training_rows)

    def validation_csv(self) -> bytes:
        return _csv(VALIDATION_COLUMNS, self.validation_rows)


def steps_per_epoch(records: int, batch_size: int) -> int:
    steps = math.ceil(max(records, 1) / max(batch_size, 1))
    return min(MAX_STEPS_PER_EPOCH, steps)


def generate(
    seed: str,
    *,
    epochs: int,
    steps_per_epoch: int,
    with_validation: bool,
    final_training_loss: float | None = None,
    final_validation_loss: float | None = None,
) -> Metrics:
    """Build a noisy, decreasing loss curve ending exactly at the final losses."""
    # Not for security: a reproducible stream of numbers keyed by the job.
    rng = random.Random(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big"))  # noqa: S311
    final = final_training_loss if final_training_loss is not None else round(rng.uniform(0.35, 1.1), 4)
    initial = final + rng.uniform(1.2, 2.4)
    decay = rng.uniform(3.0, 5.0)
    ratio = rng.uniform(1.04, 1.12)
    final_val = final_validation_loss if final_validation_loss is not None else round(final * ratio, 4)
    total = max(1, epochs * steps_per_epoch)

    def smooth(step: int) -> float:
        frac = step / (total - 1) if total > 1 else 1.0
        shape = (math.exp(-decay * frac) - math.exp(-decay)) / (1 - math.exp(-decay))
        return final + (initial - final) * shape

    training: list[tuple[int, int, float, float]] = []
    for step in range(total):
        frac = step / (total - 1) if total > 1 else 1.0
        # Noise shrinks as training converges, and never drives the loss to zero.
        noisy = smooth(step) * (1 + rng.gauss(0.0, 0.04) * (1 - 0.7 * frac))
        loss = final if step == total - 1 else max(noisy, 0.05 * max(final, 0.01))
        training.append((step, step // steps_per_epoch, round(loss, 6), _perplexity(loss)))

    validation: list[tuple[int, int, float, float]] = []
    if with_validation:
        per_epoch = min(VALIDATIONS_PER_EPOCH, steps_per_epoch)
        eval_steps = sorted(
            {
                epoch * steps_per_epoch + round((i + 1) * steps_per_epoch / per_epoch) - 1
                for epoch in range(epochs)
                for i in range(per_epoch)
            }
        )
        # Validation tracks training from slightly above, converging to final_val.
        val_ratio = final_val / final if final > 0 else ratio
        for step in eval_steps:
            if step == total - 1:
                loss = final_val
            else:
                loss = max(smooth(step) * val_ratio * (1 + rng.gauss(0.0, 0.02)), 0.05 * max(final_val, 0.01))
            validation.append((step, step // steps_per_epoch, round(loss, 6), _perplexity(loss)))

    return Metrics(
        training_rows=training,
        validation_rows=validation,
        final_training_loss=final,
        final_validation_loss=final_val if with_validation else None,
    )


def _perplexity(loss: float) -> float:
    # Guard the exponent so a silly pinned loss cannot overflow the float.
    return round(math.exp(min(loss, 700.0)), 6)


def _csv(columns: tuple[str, ...], rows: list[tuple[int, int, float, float]]) -> bytes:
    lines = [",".join(columns)]
    lines.extend(f"{step},{epoch},{loss!r},{perplexity!r}" for step, epoch, loss, perplexity in rows)
    return ("\n".join(lines) + "\n").encode()
