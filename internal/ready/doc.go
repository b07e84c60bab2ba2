// Package ready tells the parent condor_master that this daemon is ready:
// the one CEDAR command DC_SET_READY (60043), sent over the family security
// session the master hands every child, with the standard library only (no
// HTCondor libraries, no cgo). The full specification, with its sources in
// HTCondor's C++, is cedar-dc-set-ready.md (§ numbers below are its
// sections); this is what the next engineer needs to read the code.
//
// # Use
//
//	m, err := ready.FromEnv(os.Getenv)  // ErrNoInherit: not started by a master
//	err = m.SetReady(ctx, ready.ReadyAd{PID: os.Getpid(), Name: "CREDMON_OAUTH", State: "Ready"})
//
// The master then shows CREDMON_OAUTH_State = "Ready", CREDMON_OAUTH =
// "Alive" and (if everything else is up) IsReady = true in the DC_QUERY_READY
// ad that condor_who -quick prints. The master never answers DC_SET_READY:
// SetReady returning nil means the master read the message and closed the
// connection, not that it knew the pid (it logs "Cant find daemon" for a pid
// it did not fork, so the pid must be the one the master started: exec, no
// wrapper fork).
//
// # Inputs (§1)
//
// CONDOR_INHERIT is "<master pid> <master sinful> 0 0" for a non-DC child;
// only the first two fields are used. CONDOR_PRIVATE_INHERIT holds
// space-separated tokens; ours is FamilySessionKey:<claim id>, where
//
//	claim id = session id "#" ["[" session info "]"] session key
//
// split at the last '#' and, for the info, the last ']'. The id is
// "family:<48 hex>", the key 64 hex characters. The info is Name=literal;
// pairs (ExportSecSessionInfo); only the crypto methods (CryptoMethodsList
// with '.' separators wins over CryptoMethods) and SessionExpires matter. The
// caller unsets both variables after reading them (daemon_core does), so no
// helper process inherits the key.
//
// The sinful is "<host:port?k=v&k=v>" (§2.1): sock= names the master's
// endpoint behind the shared-port daemon, addrs= lists "ip-port" entries
// (IPv6 "[a-b-c]-port"). Entries in addrs= are tried IPv4 first, then
// host:port.
//
// # Framing and encodings (§3)
//
// Every message is one or more frames: 1 byte end flag (1 on the last
// frame), 4 bytes big-endian payload length (1..1 MiB, never 0), payload.
// Integers are 8 bytes big-endian whatever their C type. Strings are the
// bytes plus a NUL in plaintext; once encryption is on, an 8-byte length
// (counting the NUL) comes first. A ClassAd is int count, count strings
// "Name = value", then two empty strings (MyType, TargetType).
//
// # The exchange (§4, §5)
//
//  1. TCP connect. With sock=, first send SHARED_PORT_CONNECT in one frame:
//     int 75, string id, string our name (CREDMON_OAUTH, never a sinful),
//     int deadline in seconds, int 0. No reply; the connection is now the
//     master's. This frame is not part of the transcript.
//  2. Send int 60010 (DC_AUTHENTICATE) and the resume ad: Command = 60043,
//     UseSession = "YES", Sid = "<family id>", CryptoMethods = "AES" (exactly:
//     the master's name mapper knows no "AESGCM"), Nonce = base64 of 33
//     random bytes, ResumeResponse = true, RemoteVersion = a
//     "$CondorVersion: X.Y.Z ... $" string. The command number is never sent
//     as an integer; the master dispatches on Command.
//  3. Read the plaintext reply ad. ReturnCode "AUTHORIZED" (or absent) means
//     the session was found; "SID_NOT_FOUND" means it was not (ErrNoSession).
//     AUTHORIZED does not mean the command is allowed: a refusal on a resumed
//     session is only a close, seen in the MasterLog. The family session is
//     allowed DAEMON level, which DC_SET_READY needs.
//  4. Both sides switch to AES-256-GCM. The key is HKDF-SHA256 (RFC 5869)
//     of the session key's 64 ASCII hex characters, not decoded, salt
//     "htcondor", info "keygen", 32 bytes (Condor_Crypt_Base::hkdf).
//  5. Send the ad DaemonPID = <pid>, DaemonName = "<NAME>", DaemonState =
//     "Ready" as one encrypted message, then half-close and read to EOF: the
//     master closes once its handler ran and sends nothing.
//
// # AES-GCM frames (§4.5, §4.6)
//
// 16-byte IV (through GHASH: cipher.NewGCMWithNonceSize(block, 16)), 16-byte
// tag. Each direction draws a random base IV; frame k of that direction uses
// the base IV with k added to its first 4 bytes (big-endian). Frame 0's
// payload is IV ‖ ciphertext ‖ tag, later frames ciphertext ‖ tag; the
// header length counts all of it. Frame 0's additional data binds the
// transcript: SHA-256 of every plaintext frame (header and payload) we sent,
// then of every one we received, then the 5-byte header; a direction that
// carried no plaintext frame contributes 32 zero bytes, not SHA-256 of
// nothing. Later frames' additional data is the header alone. The master
// checks with its received digest first, which is our sent one.
//
// The known-answer tests (kat_test.go) hold all of this to the spec's
// Appendix B byte for byte; internal/ready/mastertest is a master emulator,
// written separately from this package, for everything else.
//
// # Choices where the spec leaves room (its UNCERTAIN items)
//
//   - Only the family session is used. With no FamilySessionKey (the master
//     passes none when <NAME>_USERID is set or SEC_USE_FAMILY_SESSION is
//     false), no AES in its methods, or an expired session, FromEnv returns
//     ErrNoSession and the daemon logs a warning: the full FS/IDTOKENS
//     negotiation the Python binding does is not implemented (§1.5, §8).
//   - Session info without any crypto method attribute is taken to mean the
//     master's default list, which starts with AES; any list that names AES
//     is accepted, whatever its order, since we ask for AES by name.
//   - SessionExpires ≤ 0 means "never" (the C++ convention for duration 0).
//   - A master address with port 0 (shared port not up yet, §2.2) is an
//     error, not the local SCM_RIGHTS path: the master starts us only after
//     the shared-port daemon published its address.
//   - We send a fixed RemoteVersion of 25.0.0 (≥ 9.9.0, with the " $" the
//     C++ parser needs) and no ConnectSinful, AuthCommand or Cookie.
//   - The shared-port deadline is the seconds left of SetReady's bound.
//   - No DC_CHILDALIVE keep-alives (§6): the first one would arm the
//     master's hung-daemon timer; the Python credmon sends none either.
//
// Nothing here logs; errors never contain the session key.
package ready
