package entstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-auth/gatehouse/adapters/setting"
)

// databaseURLVar names the variable ReadURL reads.
const databaseURLVar = "GATEHOUSE_DATABASE_URL"

// DefaultURL is the database when GATEHOUSE_DATABASE_URL is unset: a SQLite
// file in the working directory, so that a first run needs no
// configuration.
const DefaultURL = "sqlite://gatehouse.db"

// URL is a parsed database URL: GATEHOUSE_DATABASE_URL, which ReadURL
// reads, or the argument of Open. Parsing it once serves both the check at
// start-up and the connection, so the two never disagree on what a URL
// means. The zero URL names no database. Its String method hides the
// password a Postgres URL may carry.
type URL struct {
	dialect string          // dialect.Postgres or dialect.SQLite; "" for the zero URL
	pg      *pgx.ConnConfig // Postgres: the parsed libpq URL; never modified
	untimed *pgx.ConnConfig // Postgres: pg without WithStatementTimeout's timeouts; nil if it set none
	raw     string          // Postgres: the URL as given, for String
	path    string          // SQLite: the database file
}

// ReadURL reads GATEHOUSE_DATABASE_URL (default DefaultURL) through r,
// which records a problem naming the variable, and returns the zero URL,
// when the URL is not one Open accepts.
func ReadURL(r *setting.Reader) URL {
	u, err := parseURL(r.String(databaseURLVar, DefaultURL))
	if err != nil {
		r.Fail(databaseURLVar, "%v", err)
	}
	return u
}

// parseURL parses a database URL as Open documents it. Its errors read
// well after the variable's name and never quote the URL, which may hold a
// password.
func parseURL(raw string) (URL, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	switch {
	case ok && (scheme == "postgres" || scheme == "postgresql"):
		cfg, err := pgx.ParseConfig(raw)
		if err != nil {
			// pgx redacts the password from its errors only on a best-effort
			// basis, and a URL that does not parse is where it may fail.
			return URL{}, errors.New("is not a Postgres URL such as postgres://user:password@host:5432/gatehouse (percent-encode any '@', ':', '/', '?' or '#' in the user name or password)")
		}
		return URL{dialect: dialect.Postgres, pg: cfg, raw: raw}, nil
	case ok && scheme == "sqlite":
		if strings.Contains(rest, "?") {
			return URL{}, errors.New("sqlite:// takes no query parameters")
		}
		if rest == "" {
			return URL{}, errors.New("sqlite:// needs a file path, as in sqlite://gatehouse.db")
		}
		return URL{dialect: dialect.SQLite, path: filepath.Clean(rest)}, nil
	case ok && schemePattern.MatchString(scheme):
		return URL{}, fmt.Errorf("must start with postgres://, postgresql:// or sqlite://, not %s://", scheme)
	default:
		return URL{}, errors.New("must start with postgres://, postgresql:// or sqlite://")
	}
}

// Dialect returns Ent's name for the dialect of the database u names, as
// (*DB).Dialect does: "postgres" or "sqlite3"; "" for the zero URL.
func (u URL) Dialect() string { return u.dialect }

// SQLitePath returns the file of a SQLite database: gatehouse.db for
// sqlite://gatehouse.db, /var/lib/gatehouse.db for
// sqlite:///var/lib/gatehouse.db. It returns "" for any other database.
func (u URL) SQLitePath() string { return u.path }

// String returns u as a URL without the password and, for Postgres, without
// the query string, which may carry one too.
func (u URL) String() string {
	switch u.dialect {
	case dialect.SQLite:
		return "sqlite://" + u.path
	case dialect.Postgres:
		p, err := url.Parse(u.raw)
		if err != nil {
			scheme, _, _ := strings.Cut(u.raw, "://")
			return scheme + "://"
		}
		if p.User != nil {
			if _, ok := p.User.Password(); ok {
				p.User = url.UserPassword(p.User.Username(), "xxxxx")
			}
		}
		p.RawQuery, p.ForceQuery = "", false
		return p.String()
	}
	return ""
}

// serverTimeouts are the Postgres settings WithStatementTimeout sets.
var serverTimeouts = []string{"statement_timeout", "lock_timeout"}

// WithStatementTimeout returns u with every Postgres connection of the
// pool it opens running under statement_timeout and lock_timeout of d
// (whole milliseconds, at least 1), unless the URL sets that parameter
// itself, as in ?statement_timeout=5000. Postgres then ends a statement
// that runs or waits for a lock for longer by rolling it back and saying
// so (domain.ErrUnavailable, not domain.ErrOutcomeUnknown), so that a
// stall shorter than the caller's deadline is never an outcome the caller
// cannot know. Migrate runs without these timeouts: a migration may
// rightly take longer. SQLite's URLs, and a d that is not positive, are
// returned unchanged.
func (u URL) WithStatementTimeout(d time.Duration) URL {
	if u.dialect != dialect.Postgres || d <= 0 {
		return u
	}
	cfg := u.pg.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	ms := strconv.FormatInt(max(1, d.Milliseconds()), 10)
	for _, p := range serverTimeouts {
		if _, ok := cfg.RuntimeParams[p]; !ok {
			cfg.RuntimeParams[p] = ms
		}
	}
	if u.untimed == nil {
		u.untimed = u.pg
	}
	u.pg = cfg
	return u
}

// OpenURL connects to the database u names, as Open does.
func OpenURL(ctx context.Context, u URL) (*DB, error) {
	switch u.dialect {
	case dialect.Postgres:
		d, err := open(ctx, openPostgres(u.pg), nil, dialect.Postgres)
		if d != nil {
			d.untimed, d.probe = u.untimed, openProbe(u.pg)
		}
		return d, err
	case dialect.SQLite:
		db, err := sql.Open("sqlite", u.path+"?"+sqliteParams)
		if err == nil {
			db.SetMaxOpenConns(1)
		}
		return open(ctx, db, err, dialect.SQLite)
	}
	return nil, errors.New("entstore: open: no database URL")
}
