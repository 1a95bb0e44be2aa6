# Decrypts a cosign.key (ENCRYPTED SIGSTORE PRIVATE KEY) with scrypt from Python's hashlib and
# NaCl secretbox from PyNaCl (Debian python3-nacl): an implementation independent of Berth's.
# Usage: python3 nacl-decrypt.py KEYFILE PASSWORD OUT_DER
import base64
import hashlib
import json
import sys

import nacl.secret

key_path, password, out_path = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
lines = open(key_path).read().strip().splitlines()
assert lines[0] == "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----", lines[0]
envelope = json.loads(base64.b64decode("".join(lines[1:-1])))
kdf = envelope["kdf"]
assert kdf["name"] == "scrypt" and envelope["cipher"]["name"] == "nacl/secretbox"
params = kdf["params"]
assert (params["N"], params["r"], params["p"]) == (65536, 8, 1), params
salt = base64.b64decode(kdf["salt"])
assert len(salt) == 32
nonce = base64.b64decode(envelope["cipher"]["nonce"])
assert len(nonce) == 24
key = hashlib.scrypt(password, salt=salt, n=params["N"], r=params["r"], p=params["p"], maxmem=256 * 1024 * 1024, dklen=32)
der = nacl.secret.SecretBox(key).decrypt(base64.b64decode(envelope["ciphertext"]), nonce)
open(out_path, "wb").write(der)
