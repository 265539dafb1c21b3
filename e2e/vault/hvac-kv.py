# One KV v2 session through Debian's python3-hvac (0.11), run unchanged against the Vault double
# and against Coffer's Vault door: the test compares what the two answered. It covers what both
# do the same way (check-and-set, nested JSON values, merge patches, versions, LIST, metadata
# settings, destroying single versions, max_versions); the last line printed is the summary.
import json
import os

import hvac
import hvac.exceptions as errors

client = hvac.Client(url=os.environ["VAULT_ADDR"], token=os.environ["VAULT_TOKEN"])
assert client.is_authenticated(), "the token authenticates"
kv = client.secrets.kv.v2
mount = os.environ["MOUNT"]
prefix = os.environ["PREFIX"]
path = prefix + "/app/db"
out = {}


def refused(exc, fn):
    try:
        fn()
    except exc as err:
        return err.errors
    raise AssertionError("expected %s" % exc.__name__)


def raises(exc, fn):
    try:
        fn()
    except exc:
        return True
    return False


def versions():
    meta = kv.read_secret_metadata(path, mount_point=mount)["data"]
    return {
        "current": meta["current_version"],
        "oldest": meta["oldest_version"],
        "destroyed": {k: v["destroyed"] for k, v in sorted(meta["versions"].items(), key=lambda i: int(i[0]))},
    }


first = {"user": "u", "password": os.environ["PLANTED"], "port": 5432, "tls": True}
out["v1"] = kv.create_or_update_secret(path, first, cas=0, mount_point=mount)["data"]["version"]
out["cas0"] = refused(errors.InvalidRequest, lambda: kv.create_or_update_secret(path, {"x": "y"}, cas=0, mount_point=mount))
second = {"user": "u2", "nested": {"a": [1, 2, {"b": None}]}, "none": None, "text": '{"looks": "like json"}'}
out["v2"] = kv.create_or_update_secret(path, second, cas=1, mount_point=mount)["data"]["version"]
out["stale"] = refused(errors.InvalidRequest, lambda: kv.create_or_update_secret(path, {"x": "y"}, cas=1, mount_point=mount))
read = kv.read_secret_version(path, mount_point=mount)["data"]
out["read"] = read["data"]
out["read_version"] = read["metadata"]["version"]
out["read_v1"] = kv.read_secret_version(path, version=1, mount_point=mount)["data"]["data"] == first

out["v3"] = kv.patch(path, {"nested": {"c": "d"}, "none": None, "user": "u3"}, mount_point=mount)["data"]["version"]
out["patched"] = kv.read_secret_version(path, mount_point=mount)["data"]["data"]

kv.create_or_update_secret(prefix + "/app/mq", {"url": "amqp://mq"}, mount_point=mount)
out["list_prefix"] = kv.list_secrets(prefix, mount_point=mount)["data"]["keys"]
out["list_app"] = kv.list_secrets(prefix + "/app", mount_point=mount)["data"]["keys"]

kv.update_metadata(path, max_versions=3, cas_required=True, mount_point=mount)
# hvac 0.11's update_metadata has no custom_metadata: its own adapter sends the request
client.adapter.post(
    "/v1/%s/metadata/%s" % (mount, path), json={"custom_metadata": {"team": "payments", "env": "prod"}}
)
meta = kv.read_secret_metadata(path, mount_point=mount)["data"]
out["settings"] = {k: meta[k] for k in ["max_versions", "cas_required", "custom_metadata", "current_version"]}
out["cas_required"] = refused(errors.InvalidRequest, lambda: kv.create_or_update_secret(path, {"user": "no cas"}, mount_point=mount))
kv.create_or_update_secret(path, {"user": "u4"}, cas=3, mount_point=mount)
kv.create_or_update_secret(path, {"user": "u5"}, cas=4, mount_point=mount)
out["after_max_versions"] = versions()
out["v2_gone"] = raises(errors.InvalidPath, lambda: kv.read_secret_version(path, version=2, mount_point=mount))

kv.destroy_secret_versions(path, versions=[4], mount_point=mount)
out["destroyed_one"] = versions()
out["v4_gone"] = raises(errors.InvalidPath, lambda: kv.read_secret_version(path, version=4, mount_point=mount))
out["v3_kept"] = kv.read_secret_version(path, version=3, mount_point=mount)["data"]["data"]["user"]
kv.destroy_secret_versions(path, versions=[5], mount_point=mount)
out["latest_gone"] = raises(errors.InvalidPath, lambda: kv.read_secret_version(path, mount_point=mount))
out["v6"] = kv.create_or_update_secret(path, {"fresh": True}, cas=5, mount_point=mount)["data"]["version"]
out["after_destroyed_latest"] = kv.read_secret_version(path, mount_point=mount)["data"]["data"]
out["destroyed_latest"] = versions()

kv.update_metadata(path, cas_required=False, mount_point=mount)
kv.delete_metadata_and_all_versions(path, mount_point=mount)
kv.delete_metadata_and_all_versions(prefix + "/app/mq", mount_point=mount)
out["gone"] = raises(errors.InvalidPath, lambda: kv.read_secret_metadata(path, mount_point=mount))
out["list_gone"] = raises(errors.InvalidPath, lambda: kv.list_secrets(prefix, mount_point=mount))
print(json.dumps(out, sort_keys=True))
