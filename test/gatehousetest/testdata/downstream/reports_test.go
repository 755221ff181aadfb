package reports_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"example.com/reports"
	"github.com/gatehouse-auth/gatehouse/test/gatehousetest"
)

func TestOnlyMembersReadReports(t *testing.T) {
	g := gatehousetest.New(t) // a real Gatehouse, in process
	api := httptest.NewServer(reports.Handler(g.Verifier(t)))
	t.Cleanup(api.Close)

	get := func(token string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, api.URL+"/reports", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}

	member := g.NewUser(t, gatehousetest.Member)
	if status, body := get(member.Tokens.AccessToken); status != http.StatusOK || body != "reports for "+member.ID {
		t.Errorf("member: %d %s", status, body)
	}
	free := g.NewUser(t, gatehousetest.Free)
	if status, _ := get(free.Tokens.AccessToken); status != http.StatusForbidden {
		t.Errorf("free user: %d, want 403", status)
	}
	g.Advance(time.Hour) // past the token's 15 minutes
	if status, _ := get(member.Tokens.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("expired token: %d, want 401", status)
	}
}
