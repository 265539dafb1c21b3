# Transit on the Vault double driven by Debian's python3-hvac (0.11): a client nobody here wrote.
# It opens a data key that Coffer's key source wrapped, wraps one for Coffer to open, rotates,
# re-wraps, and retires the old version. The last line printed is a JSON summary for the test.
import base64
import json
import os

import hvac
import hvac.exceptions as errors


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


c = hvac.Client(url=os.environ["VAULT_ADDR"], token=os.environ["VAULT_TOKEN"])
expect(c.is_authenticated(), "the token authenticates")
transit = c.secrets.transit
name = os.environ["KEY_NAME"]

key = transit.read_key(name)["data"]
expect(key["type"] == "aes256-gcm96", "an aes256-gcm96 key")
expect(key["derived"] is False, "not derived")
expect(key["latest_version"] == 1, "one version")

# What Coffer wrapped is plain Transit: the data key and the context digest.
opened = transit.decrypt_data(name, os.environ["COFFER_CIPHERTEXT"])["data"]["plaintext"]
expect(opened == os.environ["COFFER_PLAINTEXT"], "Coffer's wrap opens to the data key and its digest")

# A wrap made by hvac, for Coffer to open.
made = transit.encrypt_data(name, os.environ["BOUND_PLAINTEXT"])["data"]["ciphertext"]
expect(made.startswith("vault:v1:"), "hvac's wrap is version 1")

transit.rotate_key(name)
expect(transit.read_key(name)["data"]["latest_version"] == 2, "rotated to version 2")
rewrapped = transit.rewrap_data(name, os.environ["COFFER_CIPHERTEXT"])["data"]["ciphertext"]
expect(rewrapped.startswith("vault:v2:"), "the rewrap is version 2")
again = transit.decrypt_data(name, rewrapped)["data"]["plaintext"]
expect(again == os.environ["COFFER_PLAINTEXT"], "the rewrap holds the same plaintext")

transit.update_key_configuration(name, min_decryption_version=2)
try:
    transit.decrypt_data(name, os.environ["COFFER_CIPHERTEXT"])
    raise AssertionError("version 1 should be retired")
except errors.InvalidRequest:
    pass

tampered = rewrapped[:-6] + ("A" if rewrapped[-6] != "A" else "B") + rewrapped[-5:]
try:
    transit.decrypt_data(name, tampered)
    raise AssertionError("a tampered ciphertext should not decrypt")
except errors.InvalidRequest:
    pass

print(json.dumps({"ok": True, "made": made, "rewrapped": rewrapped}))
