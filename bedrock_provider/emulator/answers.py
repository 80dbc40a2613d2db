"""What an emulated model answers: derived from the model and the prompt, the same every time.

bedrock-runtime (``runtime``) answers with it, and an evaluation job that invokes a Bedrock model
records it as the model's response, so a test can compute either.
"""

from __future__ import annotations

import hashlib


def emulated_answer(model_arn: str, prompt: str) -> str:
    """The answer to ``prompt`` (the conversation's text) from the model ``model_arn``."""
    digest = hashlib.sha256(f"{model_arn}\x1f{prompt}".encode()).hexdigest()[:12]
    last_line = prompt.strip().splitlines()[-1] if prompt.strip() else ""
    return f"Answer {digest} from {model_arn.rsplit('/', 1)[-1]} to: {last_line}"


def count_tokens(text: str) -> int:
    """Tokens as the emulator counts them: whitespace-separated words, a stand-in for a tokenizer."""
    return len(text.split())
