package gatehousetest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// The purposes of the emails Gatehouse sends.
const (
	PurposeVerifyEmail   = "verify_email"
	PurposeResetPassword = "reset_password"
)

// Email is one email Gatehouse sent.
type Email struct {
	To      string
	Purpose string // PurposeVerifyEmail or PurposeResetPassword
	// Link is the link in the email, to a page of Gatehouse's;
	// Token is its token query parameter, which the page posts.
	Link, Token string
	ExpiresAt   time.Time // when Token stops working
}

// Mailbox records the emails Gatehouse sends instead of sending them. It
// implements domain.Mailer. Its methods are safe for concurrent use.
type Mailbox struct {
	links func(domain.Email) string

	mu   sync.Mutex
	sent []Email
	// arrived is closed, and replaced, whenever an email arrives.
	arrived chan struct{}
}

func newMailbox(links func(domain.Email) string) *Mailbox {
	return &Mailbox{links: links, arrived: make(chan struct{})}
}

// Send records e.
func (m *Mailbox) Send(_ context.Context, e domain.Email) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, Email{To: e.To, Purpose: e.Purpose.String(), Link: m.links(e), Token: e.Secret, ExpiresAt: e.ExpiresAt})
	close(m.arrived)
	m.arrived = make(chan struct{})
	return nil
}

// To returns the emails of purpose sent to address, oldest first.
func (m *Mailbox) To(address, purpose string) []Email {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.to(address, purpose)
}

func (m *Mailbox) to(address, purpose string) []Email {
	var out []Email
	for _, e := range m.sent {
		if e.To == address && e.Purpose == purpose {
			out = append(out, e)
		}
	}
	return slices.Clip(out)
}

// Await waits until more than seen emails of purpose have been sent to
// address, and returns the newest. Gatehouse sends some emails from work
// it leaves running after it has answered (a reset link, for one), so a
// test awaits them rather than looking once. It returns ctx's error when
// ctx ends first.
func (m *Mailbox) Await(ctx context.Context, address, purpose string, seen int) (Email, error) {
	for {
		m.mu.Lock()
		got, arrived := m.to(address, purpose), m.arrived
		m.mu.Unlock()
		if len(got) > seen {
			return got[len(got)-1], nil
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			return Email{}, ctx.Err()
		}
	}
}
