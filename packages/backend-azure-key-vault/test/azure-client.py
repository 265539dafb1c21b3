"""Drives the Key Vault double with Debian's Azure SDK for Python (azure-keyvault-secrets,
azure-identity with MSAL), a client nobody here wrote. Reads a JSON job on stdin and prints
one JSON object of observations; the test checks them.

Trust: the double's certificate comes in through REQUESTS_CA_BUNDLE (the test sets it for this
process only); TLS verification stays on.
"""
import json
import sys

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.identity import ClientSecretCredential
from azure.keyvault.secrets import SecretClient

job = json.load(sys.stdin)
url = job["url"]
out = {}


def client(identity, **kwargs):
    credential = ClientSecretCredential(
        job["tenantId"],
        identity["clientId"],
        identity["clientSecret"],
        authority=url,
        instance_discovery=False,
    )
    # the double listens on 127.0.0.1, which is not under the challenge's vault.azure.net
    return SecretClient(url, credential, verify_challenge_resource=False, **kwargs)


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


kv = client(job["officer"])
out["apiVersion"] = kv.api_version

first = kv.set_secret("py-one", "value-1", tags={"team": "blue"}, content_type="text/plain")
second = kv.set_secret("py-one", "value-2")
out["firstVersion"] = first.properties.version
out["tags"] = first.properties.tags
out["contentType"] = first.properties.content_type
out["recoveryLevel"] = first.properties.recovery_level
out["latest"] = kv.get_secret("py-one").value
out["old"] = kv.get_secret("py-one", first.properties.version).value
kv.set_secret("py-two", "other")
kv.set_secret("py-three", "third")

# paging: one item a page, so every list follows nextLink
versions = kv.list_properties_of_secret_versions("py-one", max_page_size=1)
out["versionPages"] = sum(1 for _ in versions.by_page())
out["versions"] = sorted(p.version for p in kv.list_properties_of_secret_versions("py-one", max_page_size=1))
out["names"] = sorted(p.name for p in kv.list_properties_of_secrets(max_page_size=1))

# a disabled version cannot be read
kv.update_secret_properties("py-one", first.properties.version, enabled=False)
out["disabledError"] = error_of(lambda: kv.get_secret("py-one", first.properties.version))
out["missingError"] = error_of(lambda: kv.get_secret("py-missing"))
out["missingType"] = "ResourceNotFoundError" if out["missingError"]["type"] == ResourceNotFoundError.__name__ else out["missingError"]["type"]

# soft delete, the name blocked, recover
deleted = kv.begin_delete_secret("py-one").result()
out["recoveryId"] = deleted.recovery_id
out["scheduledPurge"] = deleted.scheduled_purge_date is not None
out["deletedName"] = kv.get_deleted_secret("py-one").name
out["blockedError"] = error_of(lambda: kv.set_secret("py-one", "again"))
out["blockedIsExists"] = out["blockedError"]["type"] == ResourceExistsError.__name__
kv.begin_recover_deleted_secret("py-one").result()
out["recovered"] = kv.get_secret("py-one").value

# delete and purge
kv.begin_delete_secret("py-two").result()
kv.purge_deleted_secret("py-two")
out["deletedAfterPurge"] = sorted(d.name for d in kv.list_deleted_secrets())
out["purgedError"] = error_of(lambda: kv.get_deleted_secret("py-two"))
kv.set_secret("py-two", "reused")
out["reused"] = kv.get_secret("py-two").value

# the service's rules
out["tooLargeError"] = error_of(lambda: kv.set_secret("py-big", "x" * 25_601))
out["badNameError"] = error_of(lambda: kv.set_secret("bad_name", "x"))

# a value Coffer wrote
coffer = kv.get_secret(job["cofferName"])
out["cofferValue"] = coffer.value
out["cofferTags"] = coffer.properties.tags
out["cofferContentType"] = coffer.properties.content_type

# other identities
reader = client(job["reader"])
out["readerRead"] = reader.get_secret("py-two").value
out["readerWriteError"] = error_of(lambda: reader.set_secret("py-four", "x"))
wrong = client(job["wrongSecret"])
out["wrongSecretError"] = error_of(lambda: wrong.get_secret("py-two"))

print(json.dumps(out))
