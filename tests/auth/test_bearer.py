from __future__ import annotations

import pytest

from challenge_service.auth import AuthError, parse_bearer
from challenge_service.auth.bearer import MAX_TOKEN_LENGTH


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer abc.def.ghi", "abc.def.ghi"),  # the scheme is case-insensitive
        ("BEARER a-b_c~d+e/f==", "a-b_c~d+e/f=="),
    ],
)
def test_parses_bearer_token(header: str, token: str) -> None:
    assert parse_bearer(header) == token


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "Bearer  abc",
        " Bearer abc",
        "Bearer abc ",
        "Bearer abc def",
        "Bearer\tabc",
        "Bearerabc",
        "Token abc",
        "Bearer abc\n",
        "Bearer a=b",  # '=' only as trailing padding
        "Bearer " + "a" * MAX_TOKEN_LENGTH,
    ],
)
def test_rejects_missing_or_malformed_header(header: str | None) -> None:
    with pytest.raises(AuthError) as info:
        parse_bearer(header)
    assert info.value.status == 401
    assert info.value.message
