# The Vault double driven by Debian's python3-hvac (0.11): a client nobody here wrote. Every
# step checks what hvac got back; the last line printed is a JSON summary for the test.
import base64
import json
import os
import sys

import hvac
import hvac.exceptions as errors

url = os.environ["VAULT_ADDR"]
root = os.environ["ROOT_TOKEN"]
summary = {}


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def raises(exc, fn, what):
    try:
        fn()
    except exc as e:
        return e
    raise AssertionError("expected %s: %s" % (exc.__name__, what))


c = hvac.Client(url=url, token=root)
expect(c.is_authenticated(), "root token authenticates")
expect(c.sys.is_sealed() is False, "not sealed")
health = c.sys.read_health_status(method="GET")
expect(health["initialized"] is True and health["sealed"] is False, "health")
mounts = c.sys.list_mounted_secrets_engines()
expect(mounts["data"]["secret/"]["type"] == "kv", "secret/ is kv")
expect(mounts["data"]["secret/"]["options"]["version"] == "2", "kv version 2")
expect(mounts["data"]["transit/"]["type"] == "transit", "transit mounted")

kv = c.secrets.kv.v2
r = kv.create_or_update_secret(path="hvac/one", secret={"user": "alice", "n": 1}, cas=0)
expect(r["data"]["version"] == 1, "first version is 1")
e = raises(errors.InvalidRequest, lambda: kv.create_or_update_secret(path="hvac/one", secret={"x": 1}, cas=0), "cas 0 on an existing key")
expect("check-and-set parameter did not match the current version" in str(e), "cas mismatch message")
kv.create_or_update_secret(path="hvac/one", secret={"user": "alice", "n": 2}, cas=1)
expect(kv.read_secret_version(path="hvac/one", version=1)["data"]["data"] == {"user": "alice", "n": 1}, "read version 1")
latest = kv.read_secret_version(path="hvac/one")
expect(latest["data"]["data"]["n"] == 2 and latest["data"]["metadata"]["version"] == 2, "read latest")
kv.create_or_update_secret(path="hvac/two", secret={"a": "b"})
kv.create_or_update_secret(path="hvac/deeper/three", secret={"a": "b"})
expect(kv.list_secrets(path="hvac")["data"]["keys"] == ["deeper/", "one", "two"], "LIST method")
strict = hvac.Client(url=url, token=root, strict_http=True)
expect(strict.secrets.kv.v2.list_secrets(path="hvac")["data"]["keys"] == ["deeper/", "one", "two"], "GET ?list=true")
raises(errors.InvalidPath, lambda: kv.list_secrets(path="nothing-here"), "LIST of an empty folder is 404")

kv.delete_secret_versions(path="hvac/one", versions=[1])
raises(errors.InvalidPath, lambda: kv.read_secret_version(path="hvac/one", version=1), "deleted version is 404")
meta = kv.read_secret_metadata(path="hvac/one")["data"]
expect(meta["versions"]["1"]["deletion_time"] != "", "deletion_time set")
expect(meta["current_version"] == 2 and meta["oldest_version"] == 0, "current and oldest version")
kv.undelete_secret_versions(path="hvac/one", versions=[1])
expect(kv.read_secret_version(path="hvac/one", version=1)["data"]["data"]["n"] == 1, "undeleted")
kv.destroy_secret_versions(path="hvac/one", versions=[1])
meta = kv.read_secret_metadata(path="hvac/one")["data"]
expect(meta["versions"]["1"]["destroyed"] is True, "destroyed flag")
raises(errors.InvalidPath, lambda: kv.read_secret_version(path="hvac/one", version=1), "destroyed version is 404")
kv.delete_latest_version_of_secret(path="hvac/one")
raises(errors.InvalidPath, lambda: kv.read_secret_version(path="hvac/one"), "latest deleted")

# hvac 0.11 has no custom_metadata parameter: the adapter sends the documented body
c.adapter.post("/v1/secret/metadata/hvac/two", json={"custom_metadata": {"team": "blue"}, "max_versions": 3})
meta = kv.read_secret_metadata(path="hvac/two")["data"]
expect(meta["custom_metadata"] == {"team": "blue"} and meta["max_versions"] == 3, "custom_metadata and max_versions")
for i in range(4):
    kv.create_or_update_secret(path="hvac/two", secret={"i": i})
meta = kv.read_secret_metadata(path="hvac/two")["data"]
expect(sorted(meta["versions"].keys(), key=int) == ["3", "4", "5"], "max_versions keeps the last 3")
too_many = dict(("k%d" % i, "v") for i in range(65))
e = raises(errors.InvalidRequest, lambda: c.adapter.post("/v1/secret/metadata/hvac/two", json={"custom_metadata": too_many}), "65 keys")
expect("at most 64 keys" in str(e), "custom_metadata key limit")
kv.update_metadata(path="hvac/two", cas_required=True)
e = raises(errors.InvalidRequest, lambda: kv.create_or_update_secret(path="hvac/two", secret={"x": 1}), "cas required")
expect("check-and-set parameter required" in str(e), "cas_required message")
kv.delete_metadata_and_all_versions(path="hvac/two")
expect(kv.list_secrets(path="hvac")["data"]["keys"] == ["deeper/", "one"], "metadata deleted")

# tokens, policies
ro = hvac.Client(url=url, token=os.environ["READ_ONLY_TOKEN"])
expect(ro.is_authenticated(), "read-only token")
expect(ro.lookup_token()["data"]["policies"] == ["coffer-ro", "default"], "lookup-self policies")
raises(errors.Forbidden, lambda: ro.secrets.kv.v2.create_or_update_secret(path="hvac/ro", secret={"a": 1}), "read-only token writes")
short = c.create_token(policies=["coffer-rw"], ttl="60s")["auth"]
sc = hvac.Client(url=url, token=short["client_token"])
expect(sc.lookup_token()["data"]["ttl"] <= 60, "token ttl")
expect(sc.renew_self_token(increment="120s")["auth"]["lease_duration"] >= 100, "renew-self")
expect(hvac.Client(url=url, token="hvs.nobody").is_authenticated() is False, "unknown token")

# AppRole
c.auth.approle.create_or_update_approle(role_name="hvac-role", token_policies=["coffer-rw"], token_ttl="1h", token_max_ttl="2h")
role_id = c.auth.approle.read_role_id(role_name="hvac-role")["data"]["role_id"]
secret_id = c.auth.approle.generate_secret_id(role_name="hvac-role")["data"]["secret_id"]
ac = hvac.Client(url=url)
login = ac.auth_approle(role_id, secret_id)
expect(login["auth"]["lease_duration"] == 3600 and login["auth"]["renewable"] is True, "approle token ttl")
expect(ac.is_authenticated(), "approle token works")
raises(errors.InvalidRequest, lambda: hvac.Client(url=url).auth_approle(role_id, "wrong"), "wrong secret id")

# Transit
t = c.secrets.transit
t.create_key(name="hvac-key")
plain = base64.b64encode(b"hello transit").decode()
ct1 = t.encrypt_data(name="hvac-key", plaintext=plain)["data"]["ciphertext"]
expect(ct1.startswith("vault:v1:"), "v1 ciphertext")
t.rotate_key(name="hvac-key")
ct2 = t.encrypt_data(name="hvac-key", plaintext=plain)["data"]["ciphertext"]
expect(ct2.startswith("vault:v2:"), "v2 after rotate")
expect(base64.b64decode(t.decrypt_data(name="hvac-key", ciphertext=ct1)["data"]["plaintext"]) == b"hello transit", "decrypt v1")
rw = t.rewrap_data(name="hvac-key", ciphertext=ct1)["data"]["ciphertext"]
expect(rw.startswith("vault:v2:"), "rewrap to latest")
t.update_key_configuration(name="hvac-key", min_decryption_version=2)
raises(errors.InvalidRequest, lambda: t.decrypt_data(name="hvac-key", ciphertext=ct1), "below min_decryption_version")
expect(base64.b64decode(t.decrypt_data(name="hvac-key", ciphertext=rw)["data"]["plaintext"]) == b"hello transit", "decrypt rewrapped")
key = t.read_key(name="hvac-key")["data"]
expect(key["latest_version"] == 2 and key["min_decryption_version"] == 2 and key["type"] == "aes256-gcm96", "key info")
raises(errors.InvalidRequest, lambda: t.decrypt_data(name="hvac-key", ciphertext="vault:v2:" + base64.b64encode(b"x" * 40).decode()), "tampered")

# a namespace
ns = hvac.Client(url=url, token=root, namespace=os.environ["NAMESPACE"])
ns.secrets.kv.v2.create_or_update_secret(path="in-namespace", secret={"ns": True})
expect(ns.secrets.kv.v2.read_secret_version(path="in-namespace")["data"]["data"] == {"ns": True}, "namespace read")
raises(errors.InvalidPath, lambda: kv.read_secret_version(path="in-namespace"), "namespaces are apart")

# what Coffer wrote
coffer = kv.read_secret_version(path=os.environ["COFFER_PATH"])["data"]
summary["coffer"] = {"values": coffer["data"]["values"], "version": coffer["data"]["coffer-version"]}
cmeta = kv.read_secret_metadata(path=os.environ["COFFER_PATH"])["data"]
summary["coffer_metadata"] = cmeta["custom_metadata"]
summary["coffer_cas_required"] = cmeta["cas_required"]
summary["ok"] = True
print(json.dumps(summary))
