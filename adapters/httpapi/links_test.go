package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
)

func TestEmailLinksOpenThePagesThatSpendTheirTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.register("ada@example.com")
	require.NoError(t, h.app.Account.ForgotPassword(context.Background(), app.ForgotPasswordInput{Email: "ada@example.com", Client: app.Client{IP: "192.0.2.1"}}))
	h.app.Wait()
	links := httpapi.EmailLinks(publicURL + "/")

	for purpose, button := range map[domain.EmailPurpose]string{
		domain.EmailVerifyAddress: "Confirm my email",
		domain.EmailResetPassword: "Change my password",
	} {
		mails := h.mailer.To("ada@example.com", purpose)
		require.NotEmpty(t, mails, purpose.String())
		mail := mails[len(mails)-1]
		link, err := url.Parse(links(mail))
		require.NoError(t, err)
		assert.Equal(t, publicURL, link.Scheme+"://"+link.Host, "the link is under GATEHOUSE_PUBLIC_URL, one slash apart")
		assert.False(t, strings.HasPrefix(link.Path, "//"), link.Path)
		assert.Equal(t, url.Values{"token": {mail.Secret}}, link.Query(), "the token is the link's one parameter")

		page := h.get(link.RequestURI(), "").page(t, http.StatusOK)
		assert.Equal(t, mail.Secret, formToken(t, page), "the page of %s holds the link's token", purpose)
		assert.Contains(t, page, button)
	}
	assert.Empty(t, links(domain.Email{Secret: "x"}), "no page serves an email without a purpose")
}
