package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/apptest"
)

// sessionOf returns the stored session whose current refresh token is
// refresh.
func sessionOf(t *testing.T, e *env, refresh string) domain.Session {
	t.Helper()
	s, err := e.Store.Stores().Sessions.ByTokenHash(context.Background(), domain.HashToken(refresh))
	require.NoError(t, err)
	return s
}

func TestEverySessionRecordsHowItsUserAuthenticated(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pwd := []domain.AuthMethod{domain.AuthPassword}

	registered := e.register(t, "ada@example.com")
	assert.Equal(t, pwd, sessionOf(t, e, registered.RefreshToken).Methods, "registering proves the password just set")

	login, err := e.Auth.Login(ctx, "ada@example.com", "correct horse battery staple", client)
	require.NoError(t, err)
	assert.Equal(t, pwd, sessionOf(t, e, login.RefreshToken).Methods)

	refreshed, err := e.Auth.Refresh(ctx, login.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, pwd, sessionOf(t, e, refreshed.RefreshToken).Methods, "a refresh keeps how the session began")

	anonymous, err := e.Auth.Anonymous(ctx, client)
	require.NoError(t, err)
	assert.Empty(t, sessionOf(t, e, anonymous.RefreshToken).Methods, "an anonymous user proved nothing")
}

// errVetoed is what vetoingTx makes every unit of work end with.
var errVetoed = errors.New("unit of work vetoed")

// vetoingTx runs each unit of work and then rolls it back, as a commit that
// fails would.
type vetoingTx struct{ domain.Transactor }

func (v vetoingTx) InTx(ctx context.Context, fn func(ctx context.Context, s domain.Stores) error) error {
	return v.Transactor.InTx(ctx, func(ctx context.Context, s domain.Stores) error {
		if err := fn(ctx, s); err != nil {
			return err
		}
		return errVetoed
	})
}

func TestASignInWhoseUnitOfWorkRollsBackStartsNoSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ada := e.register(t, "ada@example.com")
	vetoed := newEnv(t, apptest.WithPorts(func(p *app.Ports) {
		p.Stores, p.Transactor = e.Store.Stores(), vetoingTx{e.Store}
	}))

	_, err := vetoed.Auth.Login(ctx, "ada@example.com", "correct horse battery staple", client)
	require.ErrorIs(t, err, errVetoed, "a login that cannot commit its session fails")
	_, err = vetoed.Auth.Register(ctx, app.RegisterInput{Email: "bob@example.com", Password: "correct horse battery staple", Client: client})
	require.ErrorIs(t, err, errVetoed)
	_, err = vetoed.Auth.Anonymous(ctx, client)
	require.ErrorIs(t, err, errVetoed)

	sessions, err := e.Store.Stores().Sessions.ListActive(ctx, ada.User.ID, e.Clock.Now())
	require.NoError(t, err)
	assert.Len(t, sessions, 1, "only the session registering started; the login's was rolled back")
	_, err = e.Store.Stores().Users.ByEmail(ctx, "bob@example.com")
	require.ErrorIs(t, err, domain.ErrNotFound, "the registration was rolled back with its session")
	assert.Empty(t, vetoed.Mailer.To("bob@example.com"), "no verification mail for a registration that did not commit")
}
