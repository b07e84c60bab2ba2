# Makes the legacy (oidc-agent < 2.1.0) hex-format test files with libsodium,
# through PyNaCl, independently of the Go code under test:
#   apt-get install python3-nacl; cd testdata; /usr/bin/python3 make-legacy.py
# legacy-v18*: Argon2i, 4 passes, 32 MiB; legacy-v23*: Argon2id, 2 passes, 64 MiB
# (oidc-agent hexCrypt.c legacy_18/legacy_23 parameters); password "legacy-pw".
# Line format (cryptUtils.c decryptHexFileContent): cipher_len:salt_hex:nonce_hex:cipher_hex.
# The *-ver variants add "\nGenerated using version: 2.0.3". oidc-gen 4.2.6
# (oidc-gen --pw-env -p FILE) decrypts all four. Only legacy-v18 and
# legacy-v23-ver are kept; the outputs are random (salt, nonce).
import nacl.pwhash, nacl.secret, nacl.utils, binascii, sys
from nacl.bindings import crypto_pwhash_alg, crypto_secretbox
pt = b'{"name":"legacy","client_name":"oidc-agent:legacy","issuer_url":"https://issuer.example/","client_id":"cid","client_secret":"csecret","refresh_token":"rt-legacy","cert_path":"","scope":"openid offline_access","redirect_uris":[],"username":"","password":""}'
pw = b'legacy-pw'
for name, alg, ops, mem in [("v18", nacl.pwhash.argon2i.ALG, 4, 33554432), ("v23", nacl.pwhash.argon2id.ALG, 2, 67108864)]:
    salt = nacl.utils.random(16); nonce = nacl.utils.random(24)
    key = crypto_pwhash_alg(32, pw, salt, ops, mem, alg)
    ct = crypto_secretbox(pt, nonce, key)  # MAC || ciphertext
    line = "%d:%s:%s:%s" % (len(ct), binascii.hexlify(salt).decode(), binascii.hexlify(nonce).decode(), binascii.hexlify(ct).decode())
    open("legacy-" + name, "w").write(line)
    open("legacy-" + name + "-ver", "w").write(line + "\nGenerated using version: 2.0.3")
open("legacy.json", "wb").write(pt)
