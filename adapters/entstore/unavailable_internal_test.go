package entstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/ent"
)

// brokenRowsConn is a database connection whose queries are answered but
// whose rows break while being read, as a connection that drops between
// the answer's first bytes and its row does. Real drivers mostly fail
// before QueryContext returns, where guardedDriver sees it; this is the
// case it cannot see.
type brokenRowsConn struct{}

func (brokenRowsConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("not supported") }
func (brokenRowsConn) Close() error                        { return nil }
func (brokenRowsConn) Begin() (driver.Tx, error)           { return nil, errors.New("not supported") }

func (brokenRowsConn) QueryContext(context.Context, string, []driver.NamedValue) (driver.Rows, error) {
	return brokenRows{}, nil
}

type brokenRows struct{}

func (brokenRows) Columns() []string         { return []string{"count", "window_ends_at"} }
func (brokenRows) Close() error              { return nil }
func (brokenRows) Next([]driver.Value) error { return io.ErrUnexpectedEOF }

type brokenRowsConnector struct{}

func (brokenRowsConnector) Connect(context.Context) (driver.Conn, error) {
	return brokenRowsConn{}, nil
}
func (brokenRowsConnector) Driver() driver.Driver { return nil }

func TestRateLimitHitOnRowsThatBreakIsUnavailable(t *testing.T) {
	db := sql.OpenDB(brokenRowsConnector{})
	t.Cleanup(func() { _ = db.Close() })
	client := ent.NewClient(ent.Driver(guardedDriver{entsql.OpenDB(dialect.Postgres, db)}))
	s := &rateLimitStore{client: client}

	_, _, err := s.Hit(context.Background(), "login:192.0.2.7", time.Minute, time.Now())
	require.ErrorIs(t, err, domain.ErrUnavailable, "a connection that broke while the row was read")
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "the cause is kept")
	require.ErrorContains(t, err, "entstore: hit rate limit:")
}

func TestUnavailableTellsAnUnknownOutcomeFromNoEffect(t *testing.T) {
	for _, tt := range []struct {
		name    string
		err     error
		unknown bool
	}{
		{"statement_timeout", &pgconn.PgError{Code: "57014"}, false},
		{"lock_timeout", &pgconn.PgError{Code: "55P03"}, false},
		{"cannot connect now", &pgconn.PgError{Code: "57P03"}, false},
		{"too many connections", &pgconn.PgError{Code: "53300"}, false},
		{"connect error", &pgconn.ConnectError{}, false},
		{"deadline after sending", fmt.Errorf("query: %w", context.DeadlineExceeded), true},
		{"connection broke while reading", io.ErrUnexpectedEOF, true},
		{"backend terminated", &pgconn.PgError{Code: "57P01"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := unavailable(tt.err)
			require.ErrorIs(t, err, domain.ErrUnavailable)
			require.ErrorIs(t, err, tt.err, "the cause is kept")
			assert.Equal(t, tt.unknown, errors.Is(err, domain.ErrOutcomeUnknown))
		})
	}
	assert.NoError(t, unavailable(nil))
	unique := &pgconn.PgError{Code: "23505"}
	assert.Same(t, unique, unavailable(unique), "a statement's own failure is no outage") //nolint:errorlint // identity is the point
}
