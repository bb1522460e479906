"""Access-token verification, independent of the web framework (SPEC §4).

The HTTP layer calls ``parse_bearer`` on the ``Authorization`` header, then ``JwksVerifier.verify``, and maps
``AuthError.status`` to 401 (with ``WWW-Authenticate: Bearer``) or 403.
"""

from challenge_service.auth.bearer import parse_bearer
from challenge_service.auth.errors import AuthError
from challenge_service.auth.jwks import JwksVerifier

__all__ = ["AuthError", "JwksVerifier", "parse_bearer"]
