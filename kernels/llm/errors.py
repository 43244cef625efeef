"""Exceptions of ``wse.kernels.llm``.

Every error this package raises on purpose is an :class:`LLMError`, so a command-line front end can
print its message and exit without a traceback.
"""

from __future__ import annotations


class LLMError(Exception):
    """Base class of the errors raised by ``wse.kernels.llm``."""


class ConfigError(LLMError, ValueError):
    """A model configuration is inconsistent or unknown."""


class GGUFError(LLMError, ValueError):
    """A GGUF file is missing, unreadable, or not a Llama model this package can load."""


class MissingPackageError(LLMError, ImportError):
    """An optional package is not installed; the message says how to install it."""
