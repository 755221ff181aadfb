package e2e_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestVersion: `gatehouse version` prints the version stamped at build.
func TestVersion(t *testing.T) {
	t.Parallel()
	out, code := runGatehouse(t, nil, "version")
	assert.Zero(t, code, out)
	assert.Regexp(t, `^gatehouse `+regexp.QuoteMeta(binaryVersion)+` \(commit \S+, built \S+\)\n$`, out)
}

// testBadConfiguration: a bad value stops `gatehouse serve` before it
// listens, with a message that names the variable.
func testBadConfiguration(t *testing.T, b backend) {
	s, listening := launch(t, with(b.database(t), map[string]string{"GATEHOUSE_ACCESS_TOKEN_TTL": "soon"}))
	select {
	case <-listening:
		s.kill()
		t.Fatalf("gatehouse serve listened with GATEHOUSE_ACCESS_TOKEN_TTL=soon; output:\n%s", s.log)
	case <-s.drained:
		<-s.exited
	case <-time.After(commandTimeout):
		s.kill()
		t.Fatalf("gatehouse serve neither listened nor exited within %s; output:\n%s", commandTimeout, s.log)
	}
	out := s.log.String()
	assert.NotZero(t, s.cmd.ProcessState.ExitCode(), out)
	assert.Contains(t, out, "GATEHOUSE_ACCESS_TOKEN_TTL")
	checkNoSecrets(t, "gatehouse serve", out, localSecret(t, s.env))
}
