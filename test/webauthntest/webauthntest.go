// Package webauthntest is a software passkey authenticator for tests,
// written from the WebAuthn and CTAP2 specifications with the standard
// library alone (its own CBOR encoder included), so that it checks the
// relying party's library rather than repeating it. It answers the JSON
// options a relying party sends the browser the way a browser with a
// platform authenticator does: ES256 keys, "none" attestation, a
// discoverable credential, a signature counter.
package webauthntest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
)

// The authenticator data flags (WebAuthn §6.1).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

// Authenticator holds one credential once Create has made it. Set its
// fields between calls to change what it answers.
type Authenticator struct {
	// Origin is the origin the "browser" writes into the client data, and
	// RPID the relying party ID whose hash the authenticator signs; both
	// default to what the options say (RPID) and are checked by nothing
	// here, so that a test can lie.
	Origin string
	RPID   string
	// UserVerified says whether the authenticator verified the user (the
	// UV flag).
	UserVerified bool
	// Counter is the signature counter; each Get adds one first, unless
	// NoCounter is set (it then reports 0 every time).
	Counter   uint32
	NoCounter bool

	key          *ecdsa.PrivateKey
	credentialID []byte
	userHandle   []byte
}

// New returns an authenticator for pages of origin that verifies its user.
func New(origin string) *Authenticator {
	return &Authenticator{Origin: origin, UserVerified: true}
}

// CredentialID returns the ID of the credential Create made.
func (a *Authenticator) CredentialID() []byte { return a.credentialID }

// creationOptions are the parts of PublicKeyCredentialCreationOptions
// (as JSON, under "publicKey") that an authenticator uses.
type creationOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"publicKey"`
}

// Create makes a new credential in answer to options (JSON of a
// CredentialCreation: {"publicKey": {...}}) and returns the browser's
// PublicKeyCredential as JSON (its toJSON form).
func (a *Authenticator) Create(options []byte) ([]byte, error) {
	var o creationOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("webauthntest: creation options: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	a.key, a.credentialID = key, make([]byte, 16)
	_, _ = rand.Read(a.credentialID)
	if a.userHandle, err = base64.RawURLEncoding.DecodeString(o.PublicKey.User.ID); err != nil {
		return nil, fmt.Errorf("webauthntest: user id: %w", err)
	}
	if a.RPID == "" {
		a.RPID = o.PublicKey.RP.ID
	}
	clientData := a.clientData("webauthn.create", o.PublicKey.Challenge)

	pub, err := key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		return nil, err
	}
	cose := encodeCBOR(cborMap{ // RFC 9053: kty EC2, alg ES256, crv P-256, x, y
		{1, 2}, {3, -7}, {-1, 1}, {-2, pub[1:33]}, {-3, pub[33:65]},
	})
	attested := make([]byte, 0, 16+2+len(a.credentialID)+len(cose))
	attested = append(attested, make([]byte, 16)...) // AAGUID: none
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(a.credentialID)))
	attested = append(attested, a.credentialID...)
	attested = append(attested, cose...)
	authData := append(a.authData(flagAT, a.Counter), attested...)
	attestation := encodeCBOR(cborMap{{"fmt", "none"}, {"attStmt", cborMap{}}, {"authData", authData}})

	return json.Marshal(map[string]any{
		"id": b64(a.credentialID), "rawId": b64(a.credentialID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON": b64(clientData), "attestationObject": b64(attestation),
			"transports": []string{"internal"},
		},
	})
}

// requestOptions are the parts of PublicKeyCredentialRequestOptions (as
// JSON, under "publicKey") that an authenticator uses.
type requestOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
	} `json:"publicKey"`
}

// Get signs in answer to options (JSON of a CredentialAssertion:
// {"publicKey": {...}}) with the credential Create made, and returns the
// browser's PublicKeyCredential as JSON.
func (a *Authenticator) Get(options []byte) ([]byte, error) {
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("webauthntest: request options: %w", err)
	}
	if a.key == nil {
		return nil, fmt.Errorf("webauthntest: no credential: call Create first")
	}
	if !a.NoCounter {
		a.Counter++
	}
	clientData := a.clientData("webauthn.get", o.PublicKey.Challenge)
	authData := a.authData(0, a.Counter)
	digest := sha256.Sum256(clientData)
	signed := sha256.Sum256(append(authData[:len(authData):len(authData)], digest[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, signed[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64(a.credentialID), "rawId": b64(a.credentialID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON": b64(clientData), "authenticatorData": b64(authData),
			"signature": b64(sig), "userHandle": b64(a.userHandle),
		},
	})
}

// clientData is the client data JSON (WebAuthn §5.8.1) of a ceremony of
// type typ for challenge (base64url, as the options carry it).
func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

// authData is the authenticator data (WebAuthn §6.1) without attested
// credential data: the RP ID's hash, the flags and the counter. The
// credential is backup eligible and backed up, as a synced passkey is.
func (a *Authenticator) authData(flags byte, counter uint32) []byte {
	rpHash := sha256.Sum256([]byte(a.RPID))
	flags |= flagUP | flagBE | flagBS
	if a.UserVerified {
		flags |= flagUV
	}
	return binary.BigEndian.AppendUint32(append(rpHash[:], flags), counter)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// cborMap is a CBOR map in the order CTAP2's canonical form wants: keys
// sorted, shorter encodings first (encodeCBOR sorts).
type cborMap []struct{ k, v any }

// encodeCBOR encodes v (int, string, []byte or cborMap) in CBOR (RFC
// 8949), canonically as CTAP2 requires.
func encodeCBOR(v any) []byte {
	switch v := v.(type) {
	case int:
		if v >= 0 {
			return cborHead(0, uint64(v))
		}
		return cborHead(1, uint64(-1-v))
	case string:
		return append(cborHead(3, uint64(len(v))), v...)
	case []byte:
		return append(cborHead(2, uint64(len(v))), v...)
	case cborMap:
		type pair struct{ k, v []byte }
		pairs := make([]pair, len(v))
		for i, e := range v {
			pairs[i] = pair{encodeCBOR(e.k), encodeCBOR(e.v)}
		}
		sort.Slice(pairs, func(i, j int) bool {
			if len(pairs[i].k) != len(pairs[j].k) {
				return len(pairs[i].k) < len(pairs[j].k)
			}
			return string(pairs[i].k) < string(pairs[j].k)
		})
		out := cborHead(5, uint64(len(pairs)))
		for _, p := range pairs {
			out = append(append(out, p.k...), p.v...)
		}
		return out
	}
	panic(fmt.Sprintf("webauthntest: cannot encode %T", v))
}

// cborHead is the head of a CBOR item of major type major and argument n.
func cborHead(major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return []byte{m | byte(n)}
	case n <= 0xff:
		return []byte{m | 24, byte(n)}
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16([]byte{m | 25}, uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32([]byte{m | 26}, uint32(n))
	}
	return binary.BigEndian.AppendUint64([]byte{m | 27}, n)
}
