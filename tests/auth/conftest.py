from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from challenge_service.auth import JwksVerifier
from tests.fake_ags import FakeAgs

NAMESPACE = "accelbyte"


@dataclass(frozen=True)
class SigningKey:
    """An RSA key pair as IAM would hold it: signs tokens, publishes its public half as a JWK."""

    kid: str
    private: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def jwk(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "alg": "RS256", "use": "sig"}

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, claims: dict[str, Any] | None = None, *, kid: str | None = None, **overrides: Any) -> str:
        """A token with sensible AGS-like claims; ``overrides`` set claims, ``None`` values remove them."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "sub": "user-1",
            "namespace": NAMESPACE,
            "iat": now,
            "exp": now + 600,
            "jti": uuid.uuid4().hex,
            **(claims or {}),
            **overrides,
        }
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(payload, self.private, algorithm="RS256", headers={"kid": kid or self.kid})


class FakeClock:
    """Monotonic clock the tests move by hand, so rate limits and refresh intervals need no sleeping."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def key_a() -> SigningKey:
    return SigningKey.generate("key-a")


@pytest.fixture(scope="session")
def key_b() -> SigningKey:
    return SigningKey.generate("key-b")


@pytest.fixture
def ags(key_a: SigningKey) -> Iterator[FakeAgs]:
    with FakeAgs(namespace=NAMESPACE) as server:
        server.set_jwks([key_a.jwk()])
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def verifier(ags: FakeAgs, http: httpx.AsyncClient, clock: FakeClock) -> JwksVerifier:
    return JwksVerifier(ags.jwks_url, NAMESPACE, http, clock=clock)
