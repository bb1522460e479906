"""The revoked-token Bloom filter agrees with AccelByte's own Python validators.

The vendor packages cannot be test dependencies: `iam-python-sdk` pins httpx 0.22 and PyJWT 2.4 (we need
newer), and `accelbyte-py-sdk-feat-token-validation` pulls in the generated IAM and Basic service SDKs.
So the expected values below were computed once with both vendors' BloomFilter classes
(`iam_python_sdk/bloom.py` 1.4.3 and `accelbyte_py_sdk/token_validation/_bloom_filter.py` 0.6.0, which
agree): their bit indexes for `token(i)`, and their answers for a filter holding tokens 0–5, loaded from
the words below exactly as IAM's JSON carries them.
"""

from __future__ import annotations

import base64
import hashlib

import pytest

from challenge_service.auth.bloom import MAX_HASHES, BloomFilter, bit_positions


def token(i: int) -> str:
    """JWT-shaped strings of growing length, so every MurmurHash3 tail length (0–15 bytes) occurs."""
    parts = [
        base64.urlsafe_b64encode(hashlib.sha256(f"{part}-{i}".encode()).digest() * (1 + i % 5))
        .rstrip(b"=")
        .decode()
        for part in ("h", "p", "s")
    ]
    return ".".join(parts)[: 20 + 7 * i]


# A filter of m=1000 bits, k=7, holding token(0) … token(5), as the vendor code sets and reads it.
WORDS = [
    268713984,
    2199023255552,
    1125899906842624,
    18014501588697088,
    576478413209010176,
    4611703765232255232,
    4611686018495545344,
    4202496,
    18014398509481984,
    4503599702867970,
    10448351685255364608,
    67108896,
    4294967296,
    536870912,
    1153485554071898624,
    4294967312,
]
MEMBERS = range(6)
NON_MEMBERS = range(6, 40)

# (k, m) → token index → the vendor's bit indexes. Large m exercise the 64-bit wrap and the 63-bit mask.
INDEXES = {
    (5, 2**63 - 25): {
        0: [1580516361855437956, 6583926843210089028, 2363965287709964292, 7367375769064615364,
            3147414213564490628],
        13: [3928425246871902632, 7636011117844012880, 2120224951961347320, 5827810822933457568,
             312024657050792008],
    },
    (4, 2**64 - 59): {
        1: [661327681112407354, 5119020515468395272, 353341312969607382, 4811034147325595300],
        7: [3039533632309041744, 7026204586427218725, 1789503503690619898, 5776174457808796879],
    },
    (5, 1_000_003): {
        0: [576996, 814564, 376787, 614355, 176578],
        13: [517739, 383243, 573405, 438909, 629071],
    },
    (3, 64): {0: [4, 4, 4], 1: [58, 8, 22], 7: [16, 37, 58], 13: [40, 16, 56]},
}  # fmt: skip


@pytest.mark.parametrize(
    ("k", "m", "i", "expected"), [(k, m, i, e) for (k, m), v in INDEXES.items() for i, e in v.items()]
)
def test_bit_indexes_match_the_vendor(k: int, m: int, i: int, expected: list[int]) -> None:
    assert list(bit_positions(token(i), k, m)) == expected


def test_membership_matches_the_vendor() -> None:
    bloom = BloomFilter.from_words(WORDS, k=7, m=1000)
    assert [i for i in MEMBERS if not bloom.might_contain(token(i))] == []
    assert [i for i in NON_MEMBERS if bloom.might_contain(token(i))] == []


def test_an_empty_filter_contains_nothing() -> None:
    assert not BloomFilter.from_words([0] * 4, k=3, m=256).might_contain(token(0))


def test_a_full_filter_contains_everything() -> None:
    assert BloomFilter.from_words([2**64 - 1], k=3, m=64).might_contain("anything")


@pytest.mark.parametrize(
    ("words", "k", "m", "problem"),
    [
        ([0], 0, 64, "k=0 is outside"),
        ([0], MAX_HASHES + 1, 64, "is outside"),
        ([0], 3, 0, "m=0 does not fit"),
        ([0], 3, 65, "m=65 does not fit in 1"),
        ([], 3, 1, "does not fit in 0"),
        ([2**64], 3, 64, "not an unsigned 64-bit"),
        ([-1], 3, 64, "not an unsigned 64-bit"),
    ],
)
def test_a_filter_that_cannot_be_read_is_refused(words: list[int], k: int, m: int, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        BloomFilter.from_words(words, k=k, m=m)
