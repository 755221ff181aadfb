// Package secretbox seals the secrets Gatehouse must read back later, such
// as TOTP keys, under a key derived from GATEHOUSE_SECRET: AES-256-GCM
// under HKDF-SHA256 of the secret, with a purpose of its own for each kind
// of secret, so that a copy of the database alone yields none of them and
// a secret sealed for one purpose never opens as another's. It implements
// domain.SecretBox.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// version is the first byte of everything Box seals, so that a later
// cipher or key can be told from this one.
const version = 1

// infoPrefix separates the keys Box derives from any other use of the
// service's secret.
const infoPrefix = "gatehouse secretbox v1: "

// errNotSealed means sealed is not something Box sealed under its key.
var errNotSealed = errors.New("secretbox: not sealed under this key")

// Box seals and opens secrets for one purpose.
type Box struct{ aead cipher.AEAD }

var _ domain.SecretBox = (*Box)(nil)

// New returns the box of purpose (such as "totp") under the service's
// secret. It returns an error for an empty secret or purpose.
func New(secret []byte, purpose string) (*Box, error) {
	if len(secret) == 0 || purpose == "" {
		return nil, errors.New("secretbox: a secret and a purpose are required")
	}
	key, err := hkdf.Key(sha256.New, secret, nil, infoPrefix+purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("secretbox: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secretbox: cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secretbox: cipher: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts and authenticates plaintext: the version byte, a random
// nonce, then the ciphertext with its tag.
func (b *Box) Seal(plaintext []byte) ([]byte, error) {
	out := make([]byte, 1+b.aead.NonceSize(), 1+b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	out[0] = version
	_, _ = rand.Read(out[1:]) // crypto/rand.Read never returns an error
	return b.aead.Seal(out, out[1:], plaintext, []byte{version}), nil
}

// Open returns what Seal sealed, or an error for anything else: another
// key, another purpose, another version, or a byte changed.
func (b *Box) Open(sealed []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != version {
		return nil, errNotSealed
	}
	plain, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte{version})
	if err != nil {
		return nil, errNotSealed
	}
	return plain, nil
}
