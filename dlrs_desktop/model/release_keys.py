"""The public keys that sign the models shipped with DLRS Desktop (Ed25519, base64 of the 32 raw bytes).

Compiled into the application rather than read from resources/, so that replacing a bundled model
folder cannot also replace the key that vouches for it. The private key never enters the
repository; docs/MODEL_BUNDLE.md "Signatures" says how release signing works.
"""

RELEASE_KEYS: dict[str, str] = {
    "dlrs-release": "H8Yyf4UnOj4HmPecjVUtZk1cz1SdUVr24RbTVt/zDmI=",
}
