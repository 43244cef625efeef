"""Tokenizers for the Llama decode (``wse.kernels.llm.tokenizer``).

``tiny``
    :class:`ByteTokenizer`: one token per UTF-8 byte (vocab 256, id == byte value), no BOS/EOS.

GGUF files with a byte-level BPE vocabulary (``tokenizer.ggml.model == "gpt2"``, e.g. SmolLM2)
    :class:`GGUFTokenizer`, built with HF's Rust ``tokenizers`` library from the file's metadata:
    ``tokenizers.models.BPE(vocab, merges)`` over ``tokenizer.ggml.tokens`` /
    ``tokenizer.ggml.merges`` (the tokens are already spelled in GPT-2's byte-to-unicode
    alphabet), a ``ByteLevel`` decoder, and the tokens the file marks CONTROL (type 3, e.g.
    ``<|im_start|>``) added as special tokens so that they are matched whole in the text.

    The pre-tokenizer follows llama.cpp's rule for ``tokenizer.ggml.pre``
    (``llama-vocab.cpp``): for ``smollm`` (and ``starcoder``, ``refact``, ``command-r``,
    ``codeshell``, ``exaone``, ``minerva``) every ``\\p{N}`` character is split off on its own
    first (``Digits(individual_digits=True)``), then the GPT-2 regex
    ``'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+`` (``ByteLevel``
    with ``use_regex=True``) splits the rest; ``gpt2``/``default`` use the GPT-2 regex alone. This is
    also what SmolLM2's own ``tokenizer.json`` says (``Digits`` then ``ByteLevel``).

    Note: transformers 5.24's GGUF tokenizer loader does not know the ``smollm`` pre-type and uses
    the GPT-2 regex alone (``GGUF_PRE_TOKENIZER_SPLITS`` has no entry for it). For ASCII digits this
    makes no difference, because SmolLM2's vocabulary has no token joining a space or another digit
    to an ASCII digit. It does differ for the other ``\\p{N}`` characters preceded by a space or by
    another number character: ``" ½"`` is ``[216 "Ġ", 16738 "½"]`` here (and in llama.cpp) but
    ``[3351 "Ġ\xc2", 138 "\xbd"]`` in transformers, which lets BPE merge the space with the first
    UTF-8 byte of ``½``. The tests pin both the agreement on everything else and this difference.
"""

from __future__ import annotations

import os
from typing import Any, Optional, Sequence, Union

from .errors import GGUFError, LLMError, MissingPackageError, check_index
from .weights import ModelWeights, gguf_metadata, load_weights, open_gguf, resolve_model

PathLike = Union[str, "os.PathLike[str]"]

#: llama.cpp pre-tokenizer types that split every number character individually before the GPT-2
#: regex (llama-vocab.cpp: LLAMA_VOCAB_PRE_TYPE_STARCODER/REFACT/COMMAND_R/SMOLLM/CODESHELL/EXAONE/MINERVA).
DIGIT_SPLIT_PRE = frozenset({"smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva"})
#: pre-tokenizer types that are the plain GPT-2 regex.
GPT2_PRE = frozenset({"default", "gpt2", "gpt-2"})

TOKEN_TYPE_CONTROL = 3


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable unicode character map (256 entries)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


class ByteTokenizer:
    """Trivial byte-level tokenizer: token id == UTF-8 byte value (vocab 256)."""

    vocab_size = 256
    bos_id: Optional[int] = None
    eos_id: Optional[int] = None
    add_bos = False
    chat_template: Optional[str] = None

    def encode(self, text: str, *, add_bos: Optional[bool] = None) -> list[int]:
        if not isinstance(text, str):
            raise LLMError(f"encode takes a str, got {text!r}")
        return list(text.encode("utf-8"))

    def decode(self, ids: Sequence[int], *, skip_special: bool = False) -> str:
        return bytes(check_index("token id", i, 256) for i in ids).decode("utf-8", errors="replace")

    def token_to_str(self, token_id: int) -> str:
        return bytes([check_index("token id", token_id, 256)]).decode("latin-1")


class GGUFTokenizer:
    """Byte-level BPE tokenizer built from GGUF metadata with the ``tokenizers`` library."""

    def __init__(
        self,
        tokens: Sequence[str],
        merges: Sequence[str],
        *,
        token_types: Optional[Sequence[int]] = None,
        pre: str = "default",
        bos_id: Optional[int] = None,
        eos_id: Optional[int] = None,
        add_bos: bool = False,
        chat_template: Optional[str] = None,
        source: str = "",
    ) -> None:
        try:
            from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
        except ImportError:  # pragma: no cover - hard dependency of the project
            raise MissingPackageError("the GGUF tokenizer needs the 'tokenizers' package: pip install tokenizers") from None
        where = source or "GGUF tokenizer"
        vocab: dict[str, int] = {}
        for i, tok in enumerate(tokens):
            if tok in vocab:
                raise GGUFError(f"{where}: token {tok!r} appears twice (ids {vocab[tok]} and {i})")
            vocab[tok] = i
        pairs = []
        for m in merges:
            parts = m.split(" ")
            if len(parts) != 2:
                raise GGUFError(f"{where}: malformed merge {m!r}")
            pairs.append((parts[0], parts[1]))
        if pre in DIGIT_SPLIT_PRE:
            pre_tok = pre_tokenizers.Sequence(
                [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]
            )
        elif pre in GPT2_PRE:
            pre_tok = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        else:
            raise GGUFError(
                f"{where}: pre-tokenizer {pre!r} is not supported; supported: {', '.join(sorted(DIGIT_SPLIT_PRE | GPT2_PRE))}"
            )
        tk = Tokenizer(models.BPE(vocab=vocab, merges=pairs, fuse_unk=False, byte_fallback=False))
        tk.pre_tokenizer = pre_tok
        tk.decoder = decoders.ByteLevel()
        self.special_ids: set[int] = set()
        if token_types is not None:
            specials = [AddedToken(t, special=True, normalized=False) for t, ty in zip(tokens, token_types) if ty == TOKEN_TYPE_CONTROL]
            if specials:
                tk.add_special_tokens(specials)
            self.special_ids = {i for i, ty in enumerate(token_types) if ty == TOKEN_TYPE_CONTROL}
        self._tk = tk
        self.tokens = list(tokens)
        spelling = bytes_to_unicode()
        #: Bytes that have no token of their own. BPE (here, in HF and in llama.cpp alike) drops
        #: them silently, so text containing them does not round-trip. SmolLM2 lacks 21 bytes:
        #: the controls 0x04 0x06 0x13 0x14 0x16 0x1d, the UTF-8 lead bytes 0xf1 0xf2 (code points
        #: U+40000..U+BFFFF) and the bytes that never occur in UTF-8 (0xc0 0xc1 0xf5-0xff).
        self.unencodable_bytes = frozenset(b for b in range(256) if spelling[b] not in vocab)
        self.vocab_size = len(tokens)
        self.pre = pre
        self.bos_id = bos_id
        self.eos_id = eos_id
        self.add_bos = add_bos
        self.chat_template = chat_template
        self.source = source

    @property
    def backend(self):
        """The underlying ``tokenizers.Tokenizer``."""
        return self._tk

    def can_encode(self, text: str) -> bool:
        """True when every UTF-8 byte of ``text`` has a token (see ``unencodable_bytes``)."""
        return not (set(text.encode("utf-8")) & self.unencodable_bytes)

    def encode(self, text: str, *, add_bos: Optional[bool] = None) -> list[int]:
        """Token ids of ``text``; special tokens written in the text (``<|im_start|>``) map to
        their ids. A BOS id is prepended when ``add_bos`` (default: the file's ``add_bos_token``)."""
        if not isinstance(text, str):
            raise LLMError(f"encode takes a str, got {text!r}")
        ids = self._tk.encode(text, add_special_tokens=False).ids
        if (self.add_bos if add_bos is None else add_bos) and self.bos_id is not None:
            ids = [self.bos_id] + ids
        return ids

    def decode(self, ids: Sequence[int], *, skip_special: bool = False) -> str:
        n = len(self.tokens)
        return self._tk.decode([check_index("token id", i, n) for i in ids], skip_special_tokens=skip_special)

    def token_to_str(self, token_id: int) -> str:
        return self.decode([token_id])

    def apply_chat_template(self, messages: Sequence[dict[str, str]], *, add_generation_prompt: bool = True) -> str:
        """Render the file's Jinja chat template (needs ``jinja2``)."""
        if not self.chat_template:
            raise GGUFError(f"{self.source or 'this tokenizer'}: the GGUF has no tokenizer.chat_template")
        try:
            import jinja2
        except ImportError:
            raise MissingPackageError("chat templates need jinja2: pip install jinja2") from None
        env = jinja2.Environment(trim_blocks=False, lstrip_blocks=False)
        tokens = self.tokens
        return env.from_string(self.chat_template).render(
            messages=list(messages),
            add_generation_prompt=add_generation_prompt,
            bos_token=tokens[self.bos_id] if self.bos_id is not None else "",
            eos_token=tokens[self.eos_id] if self.eos_id is not None else "",
        )


Tokenizer = Union[ByteTokenizer, GGUFTokenizer]


def tokenizer_from_gguf(path: PathLike, reader=None) -> GGUFTokenizer:
    """Build the tokenizer described by a GGUF file's ``tokenizer.*`` metadata (``reader``: the
    file already opened by ``open_gguf``)."""
    if reader is None:
        reader = open_gguf(path)
    keys = [
        "tokenizer.ggml.model",
        "tokenizer.ggml.pre",
        "tokenizer.ggml.tokens",
        "tokenizer.ggml.merges",
        "tokenizer.ggml.token_type",
        "tokenizer.ggml.bos_token_id",
        "tokenizer.ggml.eos_token_id",
        "tokenizer.ggml.add_bos_token",
        "tokenizer.chat_template",
    ]
    meta = gguf_metadata(reader, keys)
    model = meta.get("tokenizer.ggml.model")
    if model is None or "tokenizer.ggml.tokens" not in meta:
        raise GGUFError(f"{path}: the GGUF has no tokenizer metadata")
    if model != "gpt2":
        raise GGUFError(f"{path}: tokenizer model {model!r} is not supported (only byte-level BPE, 'gpt2')")
    return GGUFTokenizer(
        meta["tokenizer.ggml.tokens"],
        meta.get("tokenizer.ggml.merges", []),
        token_types=meta.get("tokenizer.ggml.token_type"),
        pre=meta.get("tokenizer.ggml.pre", "default"),
        bos_id=meta.get("tokenizer.ggml.bos_token_id"),
        eos_id=meta.get("tokenizer.ggml.eos_token_id"),
        add_bos=bool(meta.get("tokenizer.ggml.add_bos_token", False)),
        chat_template=meta.get("tokenizer.chat_template"),
        source=str(path),
    )


def load_tokenizer(model: PathLike = "tiny") -> Tokenizer:
    """The tokenizer of ``tiny``, ``smollm2-135m`` or a GGUF file path."""
    kind, path = resolve_model(model)
    if kind == "tiny":
        return ByteTokenizer()
    return tokenizer_from_gguf(path)


def load_model(model: PathLike = "tiny") -> tuple[ModelWeights, Tokenizer]:
    """The weights and the tokenizer of ``tiny``, ``smollm2-135m`` or a GGUF file path, reading
    the file once: ``gguf.GGUFReader`` parses every metadata field when it opens a file
    (SmolLM2's 49,152 tokens and 48,900 merges take seconds), so ``load_weights`` followed by
    ``load_tokenizer`` would parse it twice."""
    kind, path = resolve_model(model)
    if kind == "tiny":
        return load_weights(model), ByteTokenizer()
    reader = open_gguf(path)
    return load_weights(model, reader=reader), tokenizer_from_gguf(path, reader=reader)


def byte_vocab_gguf_metadata() -> dict[str, Any]:
    """Tokenizer metadata for :func:`wse.kernels.llm.weights.write_gguf` describing the 256-token
    byte vocabulary of ``tiny`` (token ``b`` is byte ``b``, no merges), so a tiny GGUF carries a
    tokenizer equivalent to :class:`ByteTokenizer`."""
    spelling = bytes_to_unicode()
    return {"model": "gpt2", "pre": "default", "tokens": [spelling[b] for b in range(256)], "token_types": [1] * 256, "merges": []}
