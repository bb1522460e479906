"""Access-token verification, independent of the web framework (docs/security.md).

The HTTP layer calls ``parse_bearer`` on the ``Authorization`` header, then ``JwksVerifier.verify``, and maps
``AuthError.status`` to 401 (with ``WWW-Authenticate: Bearer``) or 403. ``IamRefresher`` keeps the
verifier's keys and AGS IAM's revocation list fresh in the background.
"""

from challenge_service.auth.bearer import parse_bearer
from challenge_service.auth.errors import AuthError
from challenge_service.auth.iam import IamClient
from challenge_service.auth.jwks import JwksVerifier
from challenge_service.auth.refresh import IamRefresher
from challenge_service.auth.revocation import RevocationCache

__all__ = ["AuthError", "IamClient", "IamRefresher", "JwksVerifier", "RevocationCache", "parse_bearer"]
