package domain

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
)

// retryKeyInfo separates the keys SealRetry derives from any other use of
// a refresh token's secret.
const retryKeyInfo = "gatehouse refresh retry v1"

// errNotSealedUnder means sealed was not made by SealRetry under the
// parent given.
var errNotSealedUnder = errors.New("domain: retry secret not sealed under this token")

// SealRetry encrypts child, the refresh token that replaced parent, under
// a key that only parent yields (AES-256-GCM under HKDF-SHA256 of parent),
// so that a client retrying a refresh whose answer it lost can be given
// the same child, while what is stored is worthless to whoever lacks
// parent: a leaked database yields no usable token.
func SealRetry(parent, child string) []byte {
	aead := retryAEAD(parent)
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand.Read never returns an error
	return aead.Seal(nonce, nonce, []byte(child), nil)
}

// OpenRetry returns the child that SealRetry sealed under parent, or an
// error when sealed was not sealed under parent.
func OpenRetry(parent string, sealed []byte) (string, error) {
	aead := retryAEAD(parent)
	if len(sealed) < aead.NonceSize() {
		return "", errNotSealedUnder
	}
	child, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], nil)
	if err != nil {
		return "", errNotSealedUnder
	}
	return string(child), nil
}

// retryAEAD is the cipher of the retry secrets sealed under parent.
func retryAEAD(parent string) cipher.AEAD {
	key, err := hkdf.Key(sha256.New, []byte(parent), nil, retryKeyInfo, 32)
	if err != nil {
		panic("domain: derive retry key: " + err.Error()) // only for a key length HKDF cannot give
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("domain: retry cipher: " + err.Error()) // only for a key size AES has not
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("domain: retry cipher: " + err.Error())
	}
	return aead
}
