package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Defaults of a QueueConfig's zero fields.
const (
	DefaultQueueSize      = 256
	DefaultWorkers        = 4
	DefaultMaxAttempts    = 5
	DefaultInitialBackoff = 2 * time.Second
	DefaultMaxBackoff     = time.Minute
)

// QueueConfig configures a Queue. Zero fields take the defaults above.
type QueueConfig struct {
	// Size is how many emails may wait for a worker; Send refuses more.
	Size int
	// Workers is how many emails are delivered at once. An email waiting
	// out its backoff holds its worker, so a few workers keep one
	// unreachable domain from delaying everyone's mail.
	Workers int
	// MaxAttempts is how many times an email is tried before it is given
	// up; a permanent failure (a 5yz reply, an invalid or expired email)
	// gives up at once.
	MaxAttempts int
	// InitialBackoff is the wait after the first failed attempt; each
	// further wait doubles, up to MaxBackoff.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// Logger receives failed attempts (WARN), give-ups (ERROR) and
	// deliveries (INFO); nil means slog.Default().
	Logger *slog.Logger
	// After waits out a backoff, as time.After does, which nil means.
	// Tests replace it to skip or control the waits.
	After func(time.Duration) <-chan time.Time
}

// Queue is the domain.Mailer of a configured SMTP server: Send puts the
// email in a bounded in-memory queue and returns at once, and workers
// deliver it through a Sender, retrying temporary failures with exponential
// backoff. Emails still queued when the process dies are lost; the user can
// ask for another. Its methods are safe for concurrent use.
//
// Log lines name the purpose, the recipient's domain and a mail_id, never
// the address or the token, and so never the link (see the package
// documentation).
type Queue struct {
	sender Sender
	cfg    QueueConfig
	log    *slog.Logger

	mu     sync.Mutex // guards closed and sending on jobs
	closed bool
	jobs   chan job

	ctx    context.Context // ends when Close gives up waiting
	cancel context.CancelFunc
	done   chan struct{} // closed when every worker has returned

	sent, failed, abandoned atomic.Uint64
}

var _ domain.Mailer = (*Queue)(nil)

// job is one email on its way.
type job struct {
	// ctx carries the values of Send's context, for the log handler, but
	// not its cancellation: the request ends long before delivery.
	ctx   context.Context
	email domain.Email
	attrs []slog.Attr
}

// NewQueue starts the workers of a queue in front of sender, which must
// not be nil. Close stops them. Send refuses whatever the sender's Check
// refuses: the Sender builds the links, so only it can say whether an
// email's link is valid.
func NewQueue(sender Sender, cfg QueueConfig) *Queue {
	if cfg.Size <= 0 {
		cfg.Size = DefaultQueueSize
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.InitialBackoff <= 0 {
		cfg.InitialBackoff = DefaultInitialBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.InitialBackoff)
	if cfg.After == nil {
		cfg.After = time.After
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue{
		sender: sender,
		cfg:    cfg,
		log:    log,
		jobs:   make(chan job, cfg.Size),
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
	}
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Go(func() {
			for j := range q.jobs {
				q.deliver(j)
			}
		})
	}
	go func() {
		wg.Wait()
		cancel()
		close(q.done)
	}()
	return q
}

// Send validates e and queues it for delivery without waiting for it. It
// returns ErrInvalidEmail for an email that can never be sent (a recipient
// with a line break, say, or a link the Sender's Check refuses),
// ErrQueueFull when the queue has no room and ErrQueueClosed after Close.
// Delivery failures are logged, not returned.
func (q *Queue) Send(ctx context.Context, e domain.Email) error {
	if err := q.sender.Check(e); err != nil {
		return err
	}
	j := job{
		ctx:   context.WithoutCancel(ctx),
		email: e,
		attrs: []slog.Attr{
			slog.String("mail_id", newMailID()),
			slog.String("purpose", e.Purpose.String()),
			slog.String("recipient_domain", recipientDomain(e.To)),
		},
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrQueueClosed
	}
	select {
	case q.jobs <- j:
		return nil
	default:
		return ErrQueueFull
	}
}

// Close stops accepting emails and waits until the workers have delivered,
// or given up on, every email already queued. When ctx ends first, it
// interrupts the deliveries in progress and the backoff waits, drops what
// is left (logging each email at ERROR) and returns an error that counts
// the emails not delivered, once the workers have returned; that is prompt
// when the Sender honours its context, as SMTPSender does. Calling Close
// again waits again.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		if n := len(q.jobs); n > 0 {
			q.log.LogAttrs(ctx, slog.LevelInfo, "mail queue closing: delivering the queued emails first", slog.Int("queued", n))
		}
		close(q.jobs)
	}
	q.mu.Unlock()
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
	}
	q.cancel()
	<-q.done
	if n := q.abandoned.Load(); n > 0 {
		return fmt.Errorf("mail: close queue: %d emails not delivered: %w", n, context.Cause(ctx))
	}
	return nil
}

// Stats returns how many emails the queue has delivered and how many it
// has given up on (after MaxAttempts, at a permanent failure, or at Close)
// since it started. Each email counts once, whatever its attempts.
func (q *Queue) Stats() (sent, failed uint64) {
	return q.sent.Load(), q.failed.Load()
}

// Queued returns how many emails wait for a worker.
func (q *Queue) Queued() int { return len(q.jobs) }

// deliver tries j until it is delivered, fails permanently, runs out of
// attempts or the queue gives up.
func (q *Queue) deliver(j job) {
	wait := q.cfg.InitialBackoff
	var err error
	for attempt := 1; ; attempt++ {
		if q.ctx.Err() != nil {
			q.abandon(j, attempt-1, err)
			return
		}
		// The Sender blanks the link it built; this blanks what the
		// email holds once more, whatever the Sender.
		err = redact(q.sender.Deliver(q.ctx, j.email), j.email, "")
		switch {
		case err == nil:
			q.sent.Add(1)
			q.logf(j, slog.LevelInfo, "email sent", slog.Int("attempts", attempt))
			return
		case q.ctx.Err() != nil:
			q.abandon(j, attempt, err)
			return
		case permanent(err):
			q.failed.Add(1)
			q.logf(j, slog.LevelError, "gave up on an email: it cannot be delivered",
				slog.Int("attempts", attempt), slog.String("error", err.Error()))
			return
		case attempt >= q.cfg.MaxAttempts:
			q.failed.Add(1)
			q.logf(j, slog.LevelError, "gave up on an email after the last attempt failed",
				slog.Int("attempts", attempt), slog.String("error", err.Error()))
			return
		}
		q.logf(j, slog.LevelWarn, "email delivery attempt failed; will retry",
			slog.Int("attempt", attempt), slog.Int("max_attempts", q.cfg.MaxAttempts),
			slog.Duration("retry_in", wait), slog.String("error", err.Error()))
		select {
		case <-q.cfg.After(wait):
		case <-q.ctx.Done():
		}
		wait = min(2*wait, q.cfg.MaxBackoff)
	}
}

// abandon gives up on j because Close stopped waiting.
func (q *Queue) abandon(j job, attempts int, err error) {
	q.failed.Add(1)
	q.abandoned.Add(1)
	attrs := []slog.Attr{slog.Int("attempts", attempts)}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	q.logf(j, slog.LevelError, "dropped an email: the mail queue closed before it was delivered", attrs...)
}

func (q *Queue) logf(j job, level slog.Level, msg string, attrs ...slog.Attr) {
	q.log.LogAttrs(j.ctx, level, msg, append(j.attrs[:len(j.attrs):len(j.attrs)], attrs...)...)
}

// newMailID returns a random identifier that ties the log lines of one
// email together.
func newMailID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
