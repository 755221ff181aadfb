package mail_test

import (
	"context"
	"log/slog"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/mail"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/smtptest"
)

// waits records the backoffs a Queue asks for and skips them.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) after(d time.Duration) <-chan time.Time {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- time.Time{}
	return ch
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

// requireNoSecrets fails if the log holds the token, the link or the full
// recipient address.
func requireNoSecrets(t *testing.T, log string, e domain.Email) {
	t.Helper()
	require.NotEmpty(t, log)
	lower := strings.ToLower(log)
	for _, secret := range []string{testToken, e.Secret, testLinks(e), e.To} {
		assert.NotContains(t, lower, strings.ToLower(secret))
	}
	_, domainPart, _ := strings.Cut(e.To, "@")
	assert.Contains(t, log, "recipient_domain="+strings.ToLower(domainPart))
}

// TestQueueRetriesThenDeliversOnce: a server that fails the first two
// deliveries gets the email on the third attempt, once.
func TestQueueRetriesThenDeliversOnce(t *testing.T) {
	srv := smtptest.Start(t, smtptest.StartTLS(), smtptest.RequireAuth("gatehouse", "secret"), smtptest.FailFirst(2))
	logger, log := newLogger()
	w := &waits{}
	q := mail.NewQueue(newSender(t, srv), mail.QueueConfig{
		Workers: 1, MaxAttempts: 5, InitialBackoff: time.Second, MaxBackoff: time.Minute,
		Logger: logger, After: w.after,
	})
	e := verifyEmail()

	require.NoError(t, q.Send(t.Context(), e))

	m, err := srv.WaitForMessage(waitCtx(t))
	require.NoError(t, err)
	require.NoError(t, q.Close(waitCtx(t)))
	assert.Equal(t, testToken, m.Token())
	assert.Len(t, srv.Messages(), 1)
	assert.Equal(t, 2, srv.Rejected())
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second}, w.all())
	sent, failed := q.Stats()
	assert.Equal(t, [2]uint64{1, 0}, [2]uint64{sent, failed})

	warns := 0
	for _, r := range log.Records() {
		if r.Level == slog.LevelWarn {
			warns++
			assert.Contains(t, attr(r, "error"), "451", "the reason is logged")
			assert.Equal(t, "verify_email", attr(r, "purpose"))
		}
	}
	assert.Equal(t, 2, warns)
	sentRec := log.wait(t, at(slog.LevelInfo, "email sent"))
	assert.Equal(t, "3", attr(sentRec, "attempts"))
	assert.Zero(t, log.count(func(r slog.Record) bool { return r.Level >= slog.LevelError }))
	requireNoSecrets(t, log.String(), e)
	assert.Contains(t, log.String(), "[redacted]", "the server's reply named the recipient")
}

// TestQueueGivesUpAfterMaxAttempts: a server that always fails gets
// MaxAttempts attempts, then the queue logs an ERROR; Send returned nil
// long before, since each backoff waits for the test.
func TestQueueGivesUpAfterMaxAttempts(t *testing.T) {
	srv := smtptest.Start(t, smtptest.FailFirst(1000))
	logger, log := newLogger()
	release := make(chan time.Time)
	q := mail.NewQueue(newSender(t, srv), mail.QueueConfig{
		Workers: 1, MaxAttempts: 5, Logger: logger,
		After: func(time.Duration) <-chan time.Time { return release },
	})
	e := verifyEmail()
	e.To = "Grace.Hopper@Navy.example"

	require.NoError(t, q.Send(t.Context(), e))
	// Delivery cannot finish before these four releases, which come
	// after Send has returned.
	for range 4 {
		select {
		case release <- time.Time{}:
		case <-waitCtx(t).Done():
			t.Fatal("the queue stopped retrying")
		}
	}
	gaveUp := log.wait(t, at(slog.LevelError, "gave up"))
	require.NoError(t, q.Close(waitCtx(t)))

	assert.Equal(t, "5", attr(gaveUp, "attempts"))
	assert.Equal(t, "navy.example", attr(gaveUp, "recipient_domain"))
	assert.Contains(t, attr(gaveUp, "error"), "451")
	assert.Equal(t, 5, srv.Rejected())
	assert.Empty(t, srv.Messages())
	assert.Equal(t, 4, log.count(at(slog.LevelWarn, "attempt failed")))
	sent, failed := q.Stats()
	assert.Equal(t, [2]uint64{0, 1}, [2]uint64{sent, failed})
	requireNoSecrets(t, log.String(), e)
}

// TestQueueGivesUpAtPermanentFailure: a 5yz reply is not retried.
func TestQueueGivesUpAtPermanentFailure(t *testing.T) {
	srv := smtptest.Start(t, smtptest.FailFirst(1000), smtptest.FailReply("554 5.7.1 <%s>: relay access denied"))
	logger, log := newLogger()
	q := mail.NewQueue(newSender(t, srv), mail.QueueConfig{
		Workers: 1, Logger: logger,
		After: func(time.Duration) <-chan time.Time {
			t.Error("the queue waited to retry a permanent failure")
			return nil
		},
	})
	e := verifyEmail()
	require.NoError(t, q.Send(t.Context(), e))

	gaveUp := log.wait(t, at(slog.LevelError, "gave up"))
	require.NoError(t, q.Close(waitCtx(t)))
	assert.Equal(t, "1", attr(gaveUp, "attempts"))
	assert.Contains(t, attr(gaveUp, "error"), "554")
	assert.Equal(t, 1, srv.Rejected())
	sent, failed := q.Stats()
	assert.Equal(t, [2]uint64{0, 1}, [2]uint64{sent, failed})
	requireNoSecrets(t, log.String(), e)
}

// TestQueueBackoffDoublesUpToCap checks the wait sequence.
func TestQueueBackoffDoublesUpToCap(t *testing.T) {
	logger, log := newLogger()
	w := &waits{}
	fail := senderFunc(func(context.Context, domain.Email) error {
		return &textproto.Error{Code: 421, Msg: "4.3.2 service not available"}
	})
	q := mail.NewQueue(fail, mail.QueueConfig{
		Workers: 1, MaxAttempts: 6, InitialBackoff: time.Second, MaxBackoff: 3 * time.Second,
		Logger: logger, After: w.after,
	})
	require.NoError(t, q.Send(t.Context(), verifyEmail()))
	log.wait(t, at(slog.LevelError, "gave up"))
	require.NoError(t, q.Close(waitCtx(t)))
	s := time.Second
	assert.Equal(t, []time.Duration{s, 2 * s, 3 * s, 3 * s, 3 * s}, w.all())
}

// TestQueueSendOnFullQueue: Send never blocks; a full queue is an error.
func TestQueueSendOnFullQueue(t *testing.T) {
	g := newGate()
	q := mail.NewQueue(g, mail.QueueConfig{Size: 1, Workers: 1, Logger: slogDiscard()})

	require.NoError(t, q.Send(t.Context(), verifyEmail()))
	g.awaitStart(t) // the worker holds the first email
	require.NoError(t, q.Send(t.Context(), verifyEmail()))
	assert.Equal(t, 1, q.Queued())
	require.ErrorIs(t, q.Send(t.Context(), verifyEmail()), mail.ErrQueueFull)

	g.open()
	require.NoError(t, q.Close(waitCtx(t)))
	sent, failed := q.Stats()
	assert.Equal(t, [2]uint64{2, 0}, [2]uint64{sent, failed})
	require.ErrorIs(t, q.Send(t.Context(), verifyEmail()), mail.ErrQueueClosed)
}

// TestQueueCloseDrains: Close returns only when everything queued has been
// delivered, through a real server.
func TestQueueCloseDrains(t *testing.T) {
	srv := smtptest.Start(t)
	logger, log := newLogger()
	g := newGate()
	g.next = newSender(t, srv)
	q := mail.NewQueue(g, mail.QueueConfig{Workers: 1, Logger: logger})
	for range 3 {
		require.NoError(t, q.Send(t.Context(), verifyEmail()))
	}
	g.awaitStart(t)

	closed := make(chan error, 1)
	go func() { closed <- q.Close(waitCtx(t)) }()
	closing := log.wait(t, at(slog.LevelInfo, "mail queue closing"))
	assert.Equal(t, "2", attr(closing, "queued"))
	require.ErrorIs(t, q.Send(t.Context(), verifyEmail()), mail.ErrQueueClosed)
	select {
	case <-closed:
		t.Fatal("Close returned while an email was still being delivered")
	default:
	}

	g.open()
	require.NoError(t, <-closed)
	assert.Len(t, srv.Messages(), 3, "delivered before Close returned")
	sent, failed := q.Stats()
	assert.Equal(t, [2]uint64{3, 0}, [2]uint64{sent, failed})
}

// TestQueueCloseGivesUp: when Close's context ends, the delivery in
// progress is interrupted and the rest dropped, each logged.
func TestQueueCloseGivesUp(t *testing.T) {
	logger, log := newLogger()
	g := newGate() // never opened
	q := mail.NewQueue(g, mail.QueueConfig{Workers: 1, Logger: logger})
	for range 3 {
		require.NoError(t, q.Send(t.Context(), verifyEmail()))
	}
	g.awaitStart(t)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := q.Close(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "3 emails not delivered")
	sent, failed := q.Stats()
	assert.Equal(t, [2]uint64{0, 3}, [2]uint64{sent, failed})
	assert.Equal(t, 3, log.count(at(slog.LevelError, "dropped an email")))
	require.NoError(t, q.Close(t.Context()), "a second Close finds nothing left")
}

// TestQueueSendCarriesContextValues: the log lines of a delivery see the
// values of Send's context, though the context itself has ended.
func TestQueueSendCarriesContextValues(t *testing.T) {
	srv := smtptest.Start(t)
	var (
		mu  sync.Mutex
		ids []any // of the "email sent" records
	)
	h := ctxHandler{Handler: slog.DiscardHandler, seen: func(msg string, v any) {
		if msg == "email sent" {
			mu.Lock()
			ids = append(ids, v)
			mu.Unlock()
		}
	}}
	q := mail.NewQueue(newSender(t, srv), mail.QueueConfig{Logger: slog.New(h)})
	ctx, cancel := context.WithCancel(context.WithValue(t.Context(), requestIDKey{}, "req-42"))
	require.NoError(t, q.Send(ctx, verifyEmail()))
	cancel() // the request is over
	require.NoError(t, q.Close(waitCtx(t)))
	assert.Len(t, srv.Messages(), 1, "delivered despite the cancelled request context")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []any{"req-42"}, ids)
}

type requestIDKey struct{}

type ctxHandler struct {
	slog.Handler
	seen func(msg string, requestID any)
}

func (h ctxHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	h.seen(r.Message, ctx.Value(requestIDKey{}))
	return nil
}

// senderFunc is a Sender from a function.
type senderFunc func(context.Context, domain.Email) error

func (f senderFunc) Deliver(ctx context.Context, e domain.Email) error { return f(ctx, e) }

// Check refuses what the email's own fields get wrong, as a Sender must.
func (senderFunc) Check(e domain.Email) error { return mail.CheckEmail(e) }

// gate is a Sender that holds every delivery until opened (or its context
// ends), then passes it to next, or succeeds without one.
type gate struct {
	started chan struct{}
	opened  chan struct{}
	next    mail.Sender
}

func newGate() *gate {
	return &gate{started: make(chan struct{}, 100), opened: make(chan struct{})}
}

// Check refuses what the email's own fields get wrong, as a Sender must.
func (*gate) Check(e domain.Email) error { return mail.CheckEmail(e) }

func (g *gate) Deliver(ctx context.Context, e domain.Email) error {
	g.started <- struct{}{}
	select {
	case <-g.opened:
	case <-ctx.Done():
		return ctx.Err()
	}
	if g.next == nil {
		return nil
	}
	return g.next.Deliver(ctx, e)
}

func (g *gate) open() { close(g.opened) }

func (g *gate) awaitStart(t *testing.T) {
	t.Helper()
	select {
	case <-g.started:
	case <-waitCtx(t).Done():
		t.Fatal("no delivery started")
	}
}
