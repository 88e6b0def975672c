"""Shared pieces of the tests: model names, a tiny PNG, the simulator's default answer, dumps."""

from __future__ import annotations

import base64
import json
import struct
import unicodedata
import zlib

# Models of the spec's §5 table: a Claude model without a native thinking schema for ordinary
# turns, and one with native thinking (`reasoningContentEvent` with signatures).
MODEL = "claude-sonnet-4-5"
UPSTREAM_MODEL = "claude-sonnet-4.5"
THINKING_MODEL = "claude-sonnet-4-6"
UNKNOWN_MODEL = "no-such-model-e2e"


def dump(obj) -> str:
    """A readable form of what a client got, for assertion messages."""
    if hasattr(obj, "model_dump_json"):
        try:
            return obj.model_dump_json(indent=1, exclude_none=True)[:4000]
        except Exception:  # noqa: BLE001 - diagnostics must never raise
            pass
    try:
        return json.dumps(obj, indent=1, default=str)[:4000]
    except Exception:  # noqa: BLE001
        return repr(obj)[:4000]


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A valid RGB PNG of the given size (red pixels), built with zlib."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def png_base64() -> str:
    return base64.b64encode(png_bytes()).decode()


# --- the simulator's default answer (crates/kiro-sim/src/answer.rs, `default_reply`) -----------

_SENTENCES = [
    "This answer comes from kiro-sim, the Kiro upstream simulator.",
    "Nothing here was produced by a language model.",
    "The text is chosen by a hash of your message, so the same question gets the same answer.",
    "Frames arrive in small chunks, as they do from the real service.",
    "Token usage and credits are reported in the tail events.",
    "Ask again with different words to get a different reply.",
    "Multi-byte text such as naïve café, 日本語 and emoji 🙂 is part of the stream.",
    "Tool calls, thinking and faults can be scripted through the control API.",
    "Markers like [[sim:echo]] in a message change how the simulator answers.",
    "Streams are encoded once and written without per-frame locking.",
    "Every request is recorded for tests to inspect.",
    "The clock can be advanced to expire tokens or reach the monthly reset.",
]
_M64 = (1 << 64) - 1


def _fnv1a(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & _M64
    return h


def _rotl(h: int, r: int) -> int:
    r %= 64
    return ((h << r) | (h >> (64 - r))) & _M64 if r else h


def sim_default_reply(user_text: str, tool_results: int = 0) -> str:
    """What kiro-sim answers to a last user message `user_text` when no marker says otherwise
    (`tool_results`: how many tool results that message carries)."""
    h = _fnv1a(user_text.encode())
    if not user_text.strip() and tool_results > 0:
        out = f"Simulated reply after {tool_results} tool result(s)."
    else:
        head = "".join(
            " " if unicodedata.category(c) == "Cc" else c for c in user_text.strip()[:80]
        )
        out = f"Simulated reply to: «{head}»"
    for i in range(2 + h % 3):
        pick = ((_rotl(h, i * 13) + i * 5) & _M64) % len(_SENTENCES)
        out += " " + _SENTENCES[pick]
    return out
