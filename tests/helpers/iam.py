"""Stand-ins for AGS IAM's side of a token: signing keys that publish JWKs, and a clock moved by hand."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from prometheus_client import REGISTRY

from tests.fake_ags import FakeAgs

NAMESPACE = "accelbyte"


def jwt_mode(ags: FakeAgs) -> dict[str, Any]:
    """Settings overrides that point JWT-mode authentication at a fake AGS, credentials included."""
    return {
        "auth_enabled": True,
        "ab_base_url": ags.base_url,
        "ab_client_id": ags.client_id,
        "ab_client_secret": ags.client_secret,
    }


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


def iam_refreshes(source: str, result: str) -> float:
    """``challenge_iam_refreshes_total`` for one source (jwks, revocation_list) and result (ok, failed)."""
    value = REGISTRY.get_sample_value("challenge_iam_refreshes_total", {"source": source, "result": result})
    assert value is not None
    return value
