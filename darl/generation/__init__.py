"""Text generation behind one small interface (`Generator`), so scoring, evaluation and the embedded default
run the same code on a transformers model (CPU or GPU) or on vLLM (GPU). Back ends are imported only when used."""

from darl.generation.base import Completion, Generator, SamplingParams

__all__ = ["Completion", "Generator", "SamplingParams"]
