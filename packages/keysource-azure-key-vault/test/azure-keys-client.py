"""Drives the Key Vault keys double with Debian's Azure SDK for Python (azure-keyvault-keys,
azure-identity with MSAL), a client nobody here wrote. Reads a JSON job on stdin and prints one
JSON object of observations; the test checks them.

Trust: the double's certificate comes in through REQUESTS_CA_BUNDLE (the test sets it for this
process only); TLS verification stays on.
"""
import base64
import json
import os
import sys

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.identity import ClientSecretCredential
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm

job = json.load(sys.stdin)
url = job["url"]
out = {}
RSA_OAEP_256 = KeyWrapAlgorithm.rsa_oaep_256


def credential(identity):
    return ClientSecretCredential(
        job["tenantId"], identity["clientId"], identity["clientSecret"], authority=url, instance_discovery=False
    )


def clients(identity):
    cred = credential(identity)
    # the double listens on 127.0.0.1, which is not under the challenge's vault.azure.net
    keys = KeyClient(url, cred, verify_challenge_resource=False)

    def crypto(key):
        return CryptographyClient(key, cred, verify_challenge_resource=False)

    return keys, crypto


def error_of(call):
    try:
        call()
    except ClientAuthenticationError as err:
        # before HttpResponseError, which it extends
        return {"type": type(err).__name__, "message": str(err)}
    except HttpResponseError as err:
        code = err.error.code if err.error is not None else None
        inner = None
        if err.error is not None and err.error.innererror:
            inner = err.error.innererror.get("code")
        return {"type": type(err).__name__, "status": err.status_code, "code": code, "inner": inner}
    return None


keys, crypto = clients(job["officer"])
out["apiVersion"] = keys.api_version

made = keys.create_rsa_key("py-key", size=2048)
out["created"] = {"kty": str(made.key_type), "name": made.name, "version": made.properties.version,
                  "enabled": made.properties.enabled, "ops": sorted(str(o) for o in made.key_operations)}
fetched = keys.get_key("py-key")
out["sameModulus"] = fetched.key.n == made.key.n and len(made.key.n) == 256

# wrap (the SDK may do it locally with the public key it fetched) and unwrap (always remote)
data_key = os.urandom(32)
wrapped = crypto(fetched).wrap_key(RSA_OAEP_256, data_key)
out["wrapKid"] = wrapped.key_id
out["roundTrip"] = crypto(fetched.id).unwrap_key(RSA_OAEP_256, wrapped.encrypted_key).key == data_key

# a data key Coffer's key source wrapped, unwrapped by this client
coffer = job["cofferWrap"]
opened = crypto(coffer["keyId"]).unwrap_key(RSA_OAEP_256, base64.b64decode(coffer["rsaWrap"]))
out["cofferDataKey"] = opened.key.hex()

rotated = keys.rotate_key("py-key")
out["rotatedVersion"] = rotated.properties.version
versions = keys.list_properties_of_key_versions("py-key", max_page_size=1)
out["versionPages"] = sum(1 for _ in versions.by_page())
out["versions"] = sorted(p.version for p in keys.list_properties_of_key_versions("py-key"))
out["oldStillUnwraps"] = crypto(fetched.id).unwrap_key(RSA_OAEP_256, wrapped.encrypted_key).key == data_key

keys.update_key_properties("py-key", made.properties.version, enabled=False)
out["disabledError"] = error_of(lambda: crypto(fetched.id).unwrap_key(RSA_OAEP_256, wrapped.encrypted_key))
out["missingError"] = error_of(lambda: keys.get_key("py-missing"))
out["garbageError"] = error_of(lambda: crypto(rotated.id).unwrap_key(RSA_OAEP_256, b"\x01" * 256))

reader_keys, reader_crypto = clients(job["encryptionUser"])
out["readerUnwraps"] = reader_crypto(rotated.id).unwrap_key(
    RSA_OAEP_256, reader_crypto(rotated).wrap_key(RSA_OAEP_256, data_key).encrypted_key
).key == data_key
out["readerRotateError"] = error_of(lambda: reader_keys.rotate_key("py-key"))
out["readerCreateError"] = error_of(lambda: reader_keys.create_rsa_key("py-other", size=2048))

wrong_keys, _ = clients(job["wrongSecret"])
out["wrongSecretError"] = error_of(lambda: wrong_keys.get_key("py-key"))

print(json.dumps(out))
