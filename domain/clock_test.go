package domain_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gatehouse-auth/gatehouse/domain"
)

func TestSystemClockTellsTheSystemsTime(t *testing.T) {
	before := time.Now()
	now := domain.SystemClock{}.Now()
	after := time.Now()
	assert.False(t, now.Before(before), "not before the call")
	assert.False(t, now.After(after), "not after it")
}
