"""AGS IAM's Bloom filter of revoked access tokens, read the way AGS's own validators read it.

IAM publishes the filter as ``{"bits": [uint64, …], "k": int, "m": int}``. A token is hashed whole with
MurmurHash3 x64 128 into two unsigned 64-bit halves (h1, h2); its i-th bit (i = 0 … k−1) is
``((h1 + i·h2) mod 2⁶⁴ & 0x7FFFFFFFFFFFFFFF) mod m``, and bit j lives in bit ``j mod 64`` of word
``j div 64``. The token is (probably) revoked when all k bits are set. ``tests/auth/test_bloom.py`` checks
this against vectors computed with AccelByte's published Python validator.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import mmh3

_LOW_63_BITS = 0x7FFF_FFFF_FFFF_FFFF
# More hash functions than this is no filter AGS would size (a few to ~20 are usual); the cap bounds the
# work a malformed list could add to every request.
MAX_HASHES = 64


def bit_positions(token: str, k: int, m: int) -> Iterator[int]:
    """The k bit indexes of ``token`` in a filter of m bits."""
    h1, h2 = mmh3.hash64(token, signed=False)
    for i in range(k):
        # The mask keeps the low 63 bits, so the mod 2⁶⁴ of the sum never needs doing separately.
        yield ((h1 + i * h2) & _LOW_63_BITS) % m


@dataclass(frozen=True, slots=True)
class BloomFilter:
    k: int
    m: int
    # The words' bytes, little-endian: bit j is bit j mod 8 of byte j div 8, the same bit as in the words.
    bits: bytes

    @classmethod
    def from_words(cls, words: Sequence[int], k: int, m: int) -> BloomFilter:
        """Raises ``ValueError`` for a filter that cannot be what IAM meant; the caller keeps its last one."""
        if not 1 <= k <= MAX_HASHES:
            raise ValueError(f"k={k} is outside 1..{MAX_HASHES}")
        if not 1 <= m <= 64 * len(words):
            raise ValueError(f"m={m} does not fit in {len(words)} 64-bit words")
        try:
            bits = struct.pack(f"<{len(words)}Q", *words)
        except struct.error:
            raise ValueError("a word is not an unsigned 64-bit integer") from None
        return cls(k, m, bits)

    def might_contain(self, token: str) -> bool:
        # bit_positions inlined: on the request path the generator costs more than the hash, and a token
        # that is not in the filter is usually settled by its first or second bit.
        h1, h2 = mmh3.hash64(token, signed=False)
        bits, m = self.bits, self.m
        for i in range(self.k):
            j = ((h1 + i * h2) & _LOW_63_BITS) % m
            if not bits[j >> 3] >> (j & 7) & 1:
                return False
        return True
