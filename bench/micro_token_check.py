"""Token checks per second with and without AGS IAM's revocation list, in one process.

The same RS256 tokens go through two verifiers that share one key set: one also consults a revocation
list of realistic size (a Bloom filter sized for --revoked-tokens at a 1e-4 false-positive rate, plus
--revoked-users banned users), the other does not. Within each round the two take turns in batches of
50 checks, so drift on a shared machine (CPU frequency, other processes) hits both alike, and rates are
per CPU-second of this process (time.process_time), which other processes on the box barely move. No
network: IAM is an in-process transport.

    .venv/bin/python bench/micro_token_check.py                    # 7 rounds of 4,000 checks each
    .venv/bin/python bench/micro_token_check.py --rounds 3 --checks 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import secrets
import statistics
import struct
import sys
import time
import uuid

import httpx
import jwt
import structlog
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from challenge_service.auth import IamClient, JwksVerifier, RevocationCache
from challenge_service.auth.bloom import bit_positions
from challenge_service.auth.iam import JWKS_PATH

NAMESPACE = "bench"
FALSE_POSITIVE_RATE = 1e-4


def revocation_list(revoked_tokens: int, revoked_users: int) -> dict[str, object]:
    """A filter sized as the usual Bloom estimates give, filled with that many random tokens."""
    m = math.ceil(-revoked_tokens * math.log(FALSE_POSITIVE_RATE) / math.log(2) ** 2)
    k = round(m / revoked_tokens * math.log(2))
    bits = bytearray(8 * ((m + 63) // 64))
    for _ in range(revoked_tokens):
        for j in bit_positions(secrets.token_urlsafe(600), k, m):
            bits[j >> 3] |= 1 << (j & 7)
    words = list(struct.unpack(f"<{len(bits) // 8}Q", bits))
    users = [{"id": f"banned-{i}", "revoked_at": "2020-01-01T00:00:00Z"} for i in range(revoked_users)]
    return {"revoked_tokens": {"bits": words, "k": k, "m": m}, "revoked_users": users}


BATCH = 50


async def cpu_seconds(verifier: JwksVerifier, tokens: list[str], start: int) -> float:
    """CPU time of one batch of checks."""
    started = time.process_time()
    for i in range(start, start + BATCH):
        await verifier.verify(tokens[i % len(tokens)])
    return time.process_time() - started


async def round_rates(verifiers: dict[str, JwksVerifier], tokens: list[str], checks: int) -> dict[str, float]:
    spent = dict.fromkeys(verifiers, 0.0)
    names = list(verifiers)
    for batch in range(checks // BATCH):
        for name in names if batch % 2 == 0 else names[::-1]:
            spent[name] += await cpu_seconds(verifiers[name], tokens, batch * BATCH)
    return {name: checks // BATCH * BATCH / seconds for name, seconds in spent.items()}


async def run(rounds: int, checks: int, revoked_tokens: int, revoked_users: int) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": "k1", "alg": "RS256", "use": "sig"}
    documents = {
        JWKS_PATH: json.dumps({"keys": [jwk]}).encode(),
        "/iam/v3/oauth/revocationlist": json.dumps(revocation_list(revoked_tokens, revoked_users)).encode(),
    }
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=documents[request.url.path]))
    async with httpx.AsyncClient(transport=transport) as http:
        iam = IamClient("http://iam.bench", "bench-client", "bench-secret", http)
        revocations = RevocationCache(iam)
        await revocations.refresh()
        verifiers = {
            "with": JwksVerifier(iam, NAMESPACE, revocations=revocations),
            "without": JwksVerifier(iam, NAMESPACE),
        }
        now = int(time.time())
        # AGS access tokens run to 1–2 KB with their permissions and roles claims; pad to that size.
        padding = secrets.token_urlsafe(900)
        claims = {"namespace": NAMESPACE, "iat": now, "exp": now + 3600, "permissions": padding}
        tokens = [
            jwt.encode({**claims, "sub": f"user-{i}", "jti": uuid.uuid4().hex}, key, "RS256", {"kid": "k1"})
            for i in range(200)
        ]
        await round_rates(verifiers, tokens, 4 * BATCH)  # load keys, warm caches

        results: dict[str, list[float]] = {name: [] for name in verifiers}
        print(f"round  {'with list':>12}  {'without':>12}   (token checks per CPU-second)")
        for r in range(rounds):
            for name, value in (await round_rates(verifiers, tokens, checks)).items():
                results[name].append(value)
            print(f"{r + 1:>5}  {results['with'][-1]:>12,.0f}  {results['without'][-1]:>12,.0f}")

        with_list, without = statistics.median(results["with"]), statistics.median(results["without"])
        per_check_us = (1 / with_list - 1 / without) * 1e6
        print(f"median {with_list:>12,.0f}  {without:>12,.0f}")
        print(
            f"revocation check: {per_check_us:+.1f} µs per token check ({with_list / without - 1:+.1%} rate)"
        )

        started = time.process_time()
        n = 100_000
        for i in range(n):
            revocations.check(tokens[i % len(tokens)], f"user-{i % 200}", now)
        print(f"the check alone: {(time.process_time() - started) / n * 1e6:.2f} µs of CPU")
        bloom = json.loads(documents["/iam/v3/oauth/revocationlist"])["revoked_tokens"]
        print(
            f"list: {revoked_tokens:,} revoked tokens in m={bloom['m']:,} bits, k={bloom['k']}; "
            f"{revoked_users:,} revoked users; tokens of {len(tokens[0]):,} characters"
        )
    print(f"command: {' '.join([sys.executable, *sys.argv])}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--checks", type=int, default=4000, help="token checks per verifier per round")
    parser.add_argument("--revoked-tokens", type=int, default=100_000)
    parser.add_argument("--revoked-users", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(run(args.rounds, args.checks, args.revoked_tokens, args.revoked_users))


if __name__ == "__main__":
    main()
